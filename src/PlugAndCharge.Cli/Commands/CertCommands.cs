using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Cli.Commands;

internal static class CertCommands
{
    public const string Help = """
        pnc cert issue --profile P --csr FILE [--issuer CA] [--subject DN] [--days N]
            Issues a certificate from a PKCS#10 CSR (PEM or DER) and prints the PEM chain, leaf first.
            Without --issuer, the CA is chosen by profile when exactly one CA may sign it.
        pnc cert revoke SERIAL --reason R [--issuer CA]
            Revokes (idempotent). Reasons: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
            cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.
        pnc cert lint FILE --profile P
            Checks a certificate (PEM or DER) against a profile and RFC 5280; exit 0 when clean.
        pnc cert verify LEAF [--chain FILE] --trust FILE [--crl FILE]... [--at TIME] [--iso15118 [--emaid E]]
            Validates the leaf's certification path to one of the trusted certificates (RFC 5280 §6; any key type
            BouncyCastle verifies). --chain: untrusted intermediates in any order; --crl: CRLs to check revocation;
            --at: validation time (ISO 8601, default now); --iso15118 adds the ISO 15118 rules (at most three
            certificates below the root, leaf not a CA, P-256/P-521/Ed448 keys) and --emaid the contract CN check.
            Exit 0 only for a valid path; otherwise the reason is printed and the exit code is 1.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string> { "iso15118" });
        var verb = cl.Positional(0, "cert subcommand (issue, revoke, lint, verify)");
        if (verb == "lint") return Lint(cl, o, e);
        if (verb == "verify") return CertificateVerification.Run(cl, o);
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        switch (verb)
        {
            case "issue":
            {
                var profile = env.Ca.Profiles.Get(cl.Require("profile"));
                var csr = CsrReader.Decode(File.ReadAllBytes(cl.Require("csr")));
                var issuer = cl.Get("issuer");
                var days = cl.Get("days");
                var subject = cl.Get("subject");
                cl.RejectUnknown();
                if (issuer == null)
                {
                    var candidates = (await env.Ca.CaStore.ListAsync(ct)).Where(c => profile.Issuers.Contains(c.ProfileId)).ToList();
                    if (candidates.Count != 1) throw new UsageException($"Name the issuing CA with --issuer ({(candidates.Count == 0 ? "no CA may sign " + profile.Id : string.Join(", ", candidates.Select(c => c.Id)))}).");
                    issuer = candidates[0].Id;
                }
                var issued = await env.Ca.Issuer.IssueAsync(new IssuanceRequest
                {
                    ProfileId = profile.Id, IssuerId = issuer, Csr = csr, Actor = Program.Actor,
                    Subject = subject != null ? DistinguishedNames.Parse(subject) : null,
                    Validity = days != null ? TimeSpan.FromDays(int.Parse(days, System.Globalization.CultureInfo.InvariantCulture)) : null,
                }, ct);
                o.Write(issued.ToPemChain());
                e.WriteLine($"Issued {profile.Id} serial {issued.Record.Serial} by {issuer}.");
                return 0;
            }
            case "revoke":
            {
                var serial = cl.Positional(1, "SERIAL");
                var reason = RevocationReasons.Parse(cl.Require("reason"));
                var issuer = cl.Get("issuer");
                cl.RejectUnknown();
                var (caId, outcome) = issuer != null
                    ? (issuer, await env.Ca.Revoker.RevokeAsync(issuer, serial, reason, Program.Actor, ct))
                    : await env.Ca.Revoker.RevokeBySerialAsync(serial, reason, Program.Actor, ct);
                o.WriteLine(outcome.AlreadyRevoked
                    ? $"Already revoked by {caId} at {outcome.RevokedAt:O} ({outcome.Reason!.Value.Name()}); unchanged."
                    : $"Revoked {SerialNumbers.Normalize(serial)} of {caId} at {outcome.RevokedAt:O} ({outcome.Reason!.Value.Name()}).");
                return 0;
            }
            default:
                throw new UsageException($"Unknown cert subcommand '{verb}'.");
        }
    }

    private static int Lint(CommandLine cl, TextWriter o, TextWriter e)
    {
        var file = cl.Positional(1, "FILE");
        var profile = Pki.Profiles.ProfileCatalog.LoadBuiltIn(Environment.GetEnvironmentVariable("PNC_PROFILES")).Get(cl.Require("profile"));
        cl.RejectUnknown();
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
