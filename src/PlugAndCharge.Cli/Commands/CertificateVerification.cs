using System.Globalization;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Cli.Commands;

/// <summary><c>pnc cert verify</c>: offline path validation of files, with the same validator the service uses.</summary>
internal static class CertificateVerification
{
    private static readonly ChainValidator Validator = new();

    public static int Run(CommandLine cl, TextWriter o)
    {
        var leafFile = cl.Positional(1, "LEAF");
        var chainFile = cl.Get("chain");
        var trustFile = cl.Require("trust");
        var crlFiles = cl.GetAll("crl");
        var atText = cl.Get("at");
        var iso = cl.Has("iso15118");
        var emaid = cl.Get("emaid");
        cl.RejectUnknown();
        if (emaid != null && !iso) throw new UsageException("--emaid needs --iso15118.");

        var at = DateTimeOffset.UtcNow;
        if (atText != null && !DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at))
            throw new UsageException($"--at '{atText}' is not a time (use ISO 8601, e.g. 2026-01-31T12:00:00Z).");

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
