using System.CommandLine;
using System.Globalization;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Cli.Commands;

/// <summary><c>pnc cert verify</c>: offline path validation of files, with the same validator the service uses.</summary>
internal static class CertificateVerification
{
    private static readonly ChainValidator Validator = new();

    public static Command Create()
    {
        var leaf = new Argument<string>("LEAF") { Description = "The certificate to validate, PEM or DER." };
        var chain = new Option<string>("--chain") { HelpName = "FILE", Description = "Untrusted intermediate certificates, in any order." };
        var trust = new Option<string>("--trust") { Required = true, HelpName = "FILE", Description = "Trusted certificates (the roots the path may end at)." };
        var crls = new Option<string[]>("--crl") { HelpName = "FILE", Description = "A CRL to check revocation against; repeatable." };
        var at = new Option<DateTimeOffset?>("--at")
        {
            HelpName = "TIME", Description = "Validation time, ISO 8601 (default: now).",
            CustomParser = r => DateTimeOffset.TryParse(r.Tokens[0].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
                : CommandLineUsage.Refuse<DateTimeOffset?>(r, $"--at '{r.Tokens[0].Value}' is not a time (use ISO 8601, e.g. 2026-01-31T12:00:00Z)."),
        };
        var iso = new Option<bool>("--iso15118") { Description = "Adds the ISO 15118 rules: at most three certificates below the root, leaf not a CA, P-256/P-521/Ed448 keys." };
        var emaid = new Option<string>("--emaid") { HelpName = "E", Description = "With --iso15118: the contract certificate's CN must be this EMAID." };
        var command = new Command("verify", "Validates the leaf's certification path to a trusted certificate (RFC 5280 §6; any key type " +
            "BouncyCastle verifies). Exit 0 only for a valid path; otherwise the reason is printed and the exit code is 1.")
            { leaf, chain, trust, crls, at, iso, emaid };
        command.Validators.Add(r =>
        {
            if (r.GetResult(emaid) != null && !r.GetValue(iso)) r.AddError("--emaid needs --iso15118.");
        });
        command.SetAction(r => Run(r.GetValue(leaf)!, r.GetValue(chain), r.GetValue(trust)!, r.GetValue(crls) ?? [],
            r.GetValue(at) ?? DateTimeOffset.UtcNow, r.GetValue(iso), r.GetValue(emaid), r.Out()));
        return command;
    }

    private static int Run(string leafFile, string? chainFile, string trustFile, IReadOnlyList<string> crlFiles, DateTimeOffset at, bool iso, string? emaid, TextWriter o)
    {
        var request = new ChainValidationRequest
        {
            // The tolerant reader keeps each certificate's original bytes, so real-world DER quirks still verify.
            Leaf = Read(leafFile)[0],
            Intermediates = chainFile != null ? Read(chainFile) : [],
            TrustAnchors = Read(trustFile),
            Crls = crlFiles.SelectMany(ReadCrls).ToList(),
            At = at,
            Iso15118 = iso ? new Iso15118Rules { ExpectedEmaid = emaid } : null,
        };
        var result = Validator.Validate(request);
        if (result.IsValid)
        {
            o.WriteLine($"valid at {at:O} ({(iso ? "RFC 5280 + ISO 15118" : "RFC 5280")}):");
            for (var i = 0; i < result.Path.Count; i++)
                o.WriteLine($"  {i}: {result.Path[i].SubjectDN}");
            return 0;
        }
        var where = result.FailingIndex is { } ix && ix < result.Path.Count ? $" at {result.Path[ix].SubjectDN}" : "";
        o.WriteLine($"invalid: {result.Reason}{where}: {result.Detail}");
        if (result.Revocation is { } r && result.Reason == ChainFailureReason.Revoked)
            o.WriteLine($"  revoked at {r.RevokedAt:O}, reason {r.Reason?.ToString() ?? "unspecified"}");
        return 1;
    }

    private static IReadOnlyList<Org.BouncyCastle.X509.X509Certificate> Read(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"File '{path}' not found.");
        try
        {
            var list = CertificateReader.ReadCertificateFile(path);
            return list.Count > 0 ? list : throw new UsageException($"'{path}' holds no certificate.");
        }
        catch (Exception ex) when (ex is not UsageException)
        {
            throw new UsageException($"'{path}' is not a PEM or DER certificate: {ex.Message}");
        }
    }

    private static IEnumerable<Org.BouncyCastle.X509.X509Crl> ReadCrls(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"File '{path}' not found.");
        try { return [CertificateReader.ReadCrl(File.ReadAllBytes(path))]; }
        catch (Exception ex) { throw new UsageException($"'{path}' is not a PEM or DER CRL: {ex.Message}"); }
    }
}
