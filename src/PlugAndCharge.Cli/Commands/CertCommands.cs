using System.CommandLine;
using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Cli.Commands;

internal static class CertCommands
{
    public static Command Create(CommonOptions common) => CommandLineUsage.Group("cert",
        "Certificates: issue from a CSR, revoke, lint against a profile, verify a certification path.",
        Issue(common), Revoke(common), Lint(), CertificateVerification.Create());

    private static Command Issue(CommonOptions common)
    {
        var profile = new Option<string>("--profile") { Required = true, HelpName = "P", Description = "Certificate profile, e.g. iso2/contract." };
        var csr = new Option<string>("--csr") { Required = true, HelpName = "FILE", Description = "PKCS#10 request, PEM or DER." };
        var issuer = new Option<string>("--issuer") { HelpName = "CA", Description = "Issuing CA; without it, the one CA that may sign the profile." };
        var subject = new Option<string>("--subject") { HelpName = "DN", Description = "Subject to issue instead of the CSR's." };
        var days = new Option<int?>("--days")
        {
            HelpName = "N", Description = "Validity in days instead of the profile's.",
            CustomParser = r => int.TryParse(r.Tokens[0].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : CommandLineUsage.Refuse<int?>(r, $"--days '{r.Tokens[0].Value}' is not a whole number of days."),
        };
        var command = common.AddTo(new Command("issue", "Issues a certificate from a PKCS#10 CSR and prints the PEM chain, leaf first.") { profile, csr, issuer, subject, days });
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var p = env.Ca.Profiles.Get(r.GetValue(profile)!);
            var request = CsrReader.Decode(File.ReadAllBytes(r.GetValue(csr)!));
            var issuerId = r.GetValue(issuer);
            if (issuerId == null)
            {
                var candidates = (await env.Ca.CaStore.ListAsync(ct)).Where(c => p.Issuers.Contains(c.ProfileId)).ToList();
                if (candidates.Count != 1) throw new UsageException($"Name the issuing CA with --issuer ({(candidates.Count == 0 ? "no CA may sign " + p.Id : string.Join(", ", candidates.Select(c => c.Id)))}).");
                issuerId = candidates[0].Id;
            }
            var subjectDn = r.GetValue(subject);
            var validity = r.GetValue(days);
            var issued = await env.Ca.Issuer.IssueAsync(new IssuanceRequest
            {
                ProfileId = p.Id, IssuerId = issuerId, Csr = request, Actor = Program.Actor,
                Subject = subjectDn != null ? DistinguishedNames.Parse(subjectDn) : null,
                Validity = validity != null ? TimeSpan.FromDays(validity.Value) : null,
            }, ct);
            r.Out().Write(issued.ToPemChain());
            r.Error().WriteLine($"Issued {p.Id} serial {issued.Record.Serial} by {issuerId}.");
            return 0;
        });
        return command;
    }

    private static Command Revoke(CommonOptions common)
    {
        var serial = new Argument<string>("SERIAL") { Description = "Serial number of the certificate, hex." };
        var reasons = Enum.GetValues<RevocationReason>().Where(x => x != RevocationReason.RemoveFromCrl).Select(x => x.Name()).ToArray();
        var reason = new Option<string>("--reason") { Required = true, HelpName = "R", Description = $"CRLReason (RFC 5280 §5.3.1): {string.Join(", ", reasons)}." };
        reason.CompletionSources.Add(reasons);
        var issuer = new Option<string>("--issuer") { HelpName = "CA", Description = "Issuing CA; without it, the CA that issued this serial." };
        var command = common.AddTo(new Command("revoke", "Revokes a certificate (idempotent: a repeat reports the first revocation).") { serial, reason, issuer });
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var number = r.GetValue(serial)!;
            var why = RevocationReasons.Parse(r.GetValue(reason)!);
            var issuerId = r.GetValue(issuer);
            var (caId, outcome) = issuerId != null
                ? (issuerId, await env.Ca.Revoker.RevokeAsync(issuerId, number, why, Program.Actor, ct))
                : await env.Ca.Revoker.RevokeBySerialAsync(number, why, Program.Actor, ct);
            r.Out().WriteLine(outcome.AlreadyRevoked
                ? $"Already revoked by {caId} at {outcome.RevokedAt:O} ({outcome.Reason!.Value.Name()}); unchanged."
                : $"Revoked {SerialNumbers.Normalize(number)} of {caId} at {outcome.RevokedAt:O} ({outcome.Reason!.Value.Name()}).");
            return 0;
        });
        return command;
    }

    private static Command Lint()
    {
        var file = new Argument<string>("FILE") { Description = "Certificate, PEM or DER." };
        var profile = new Option<string>("--profile") { Required = true, HelpName = "P", Description = "Certificate profile to check against, e.g. iso2/contract." };
        var command = new Command("lint", "Checks a certificate against a profile and RFC 5280; exit 0 when clean, 1 with the findings.") { file, profile };
        command.SetAction(r => Lint(r.GetValue(file)!, r.GetValue(profile)!, r.Out()));
        return command;
    }

    private static int Lint(string file, string profileId, TextWriter o)
    {
        var profile = Pki.Profiles.ProfileCatalog.LoadBuiltIn(Environment.GetEnvironmentVariable("PNC_PROFILES")).Get(profileId);
        var cert = CertificateFiles.ReadOne(file);
        var findings = CertificateLinter.Lint(cert.TbsCertificate, profile).ToList();
        var size = cert.GetEncoded().Length;
        if (size > profile.MaxDerBytes) findings.Add($"certificate is {size} bytes; {profile.Id} allows {profile.MaxDerBytes} (the schema's certificateType maxLength).");
        if (findings.Count == 0) { o.WriteLine($"{file}: conforms to {profile.Id} ({size} bytes)."); return 0; }
        foreach (var f in findings) o.WriteLine($"{file}: {f}");
        return 1;
    }
}

internal static class CertificateFiles
{
    /// <summary>Every certificate of a PEM bundle or a single DER file.</summary>
    public static IReadOnlyList<X509Certificate> ReadAll(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"File '{path}' not found.");
        var bytes = File.ReadAllBytes(path);
        try
        {
            var list = new X509CertificateParser().ReadCertificates(bytes).ToList();
            if (list.Count == 0) throw new UsageException($"'{path}' holds no certificate.");
            return list;
        }
        catch (Exception ex) when (ex is not UsageException)
        {
            throw new UsageException($"'{path}' is not a PEM or DER certificate: {ex.Message}");
        }
    }

    public static X509Certificate ReadOne(string path) => ReadAll(path)[0];

    public static IReadOnlyList<X509Crl> ReadCrls(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"File '{path}' not found.");
        try { return new X509CrlParser().ReadCrls(File.ReadAllBytes(path)).ToList(); }
        catch (Exception ex) { throw new UsageException($"'{path}' is not a PEM or DER CRL: {ex.Message}"); }
    }

    public static string Pem(X509Certificate c) => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded());
}
