using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Cli.Commands;

internal static class PkiCommands
{
    public const string Help = """
        pnc pki init [--standard iso2|iso20] [--key-algorithm secp256r1|secp521r1|ed448] [--key-scheme file|memory|pkcs11:token=T|azurekv:vault=URL]
            Creates what is missing of the development hierarchy: V2G root, CPO Sub-CA 1/2, CPS Sub-CA 1/2,
            MO root + Sub-CA 1/2, OEM root + Sub-CA 1/2, each with a delegated OCSP signer. Idempotent.
        pnc pki list
            Lists the CAs with profile, parent, key URI and certificate fingerprint.
        pnc pki csr --key URI --subject DN [--generate secp256r1|secp384r1|secp521r1|ed448] [--out FILE]
            Writes a PKCS#10 request signed by the key at URI (file:, pkcs11:, azurekv:), generating it first with
            --generate: the sub-CA side of the offline-root ceremony. Prints PEM unless --out names a DER file.
        pnc pki subca --id ID --profile P --parent CA --key URI --csr FILE
            Signs a sub-CA certificate for the CSR with the parent CA's key (on the root's offline machine) and
            records the sub-CA with its key URI. Prints the certificate PEM.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string>());
        var verb = cl.Positional(0, "pki subcommand (init, list, csr, subca)");
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        switch (verb)
        {
            case "init":
            {
                var standard = cl.Get("standard") ?? "iso2";
                if (standard is not ("iso2" or "iso20")) throw new UsageException("--standard is iso2 or iso20.");
                var alg = KeyAlgorithms.FromProfileName(cl.Get("key-algorithm") ?? (standard == "iso2" ? "secp256r1" : "secp521r1"));
                var scheme = cl.Get("key-scheme") ?? "file";
                cl.RejectUnknown();
                var created = await DevelopmentHierarchy.CreateAsync(env.Ca.Hierarchy, env.Ca.CaStore, standard, scheme, alg, Program.Actor, ct);
                o.WriteLine(created.Count == 0 ? $"The {standard} development hierarchy already exists." : $"Created {created.Count} CAs: {string.Join(", ", created)}");
                await ListAsync(env, o, ct);
                return 0;
            }
            case "csr":
            {
                var uri = Pki.Keys.KeyUri.Parse(cl.Require("key"));
                var subject = cl.Require("subject");
                var generate = cl.Get("generate");
                var outFile = cl.Get("out");
                cl.RejectUnknown();
                var key = generate != null
                    ? await env.Ca.Keys.GenerateAsync(uri, KeyAlgorithms.FromProfileName(generate), ct)
                    : await env.Ca.Keys.OpenAsync(uri, ct);
                var csr = await Pki.Issuance.CsrWriter.CreateAsync(key, subject, ct);
                if (outFile != null) await File.WriteAllBytesAsync(outFile, csr, ct);
                else o.Write(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE REQUEST", csr) + "\n");
                e.WriteLine($"CSR for {subject} signed by {uri}.");
                return 0;
            }
            case "subca":
            {
                var id = cl.Require("id");
                var profile = cl.Require("profile");
                var parent = cl.Require("parent");
                var keyUri = Pki.Keys.KeyUri.Parse(cl.Require("key")).ToString();
                var csrFile = cl.Require("csr");
                cl.RejectUnknown();
                if (!File.Exists(csrFile)) throw new UsageException($"File '{csrFile}' not found.");
                var csr = Pki.Issuance.CsrReader.Decode(await File.ReadAllBytesAsync(csrFile, ct));
                var verified = Pki.Issuance.CsrReader.ReadAndVerify(csr);
                var created = await env.Ca.Hierarchy.CreateSubCaAsync(id, profile, parent, null, keyUri, verified.KeyAlgorithm, csr, Program.Actor, ct);
                o.Write(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", created.Certificate.GetEncoded()) + "\n");
                e.WriteLine($"Created sub-CA {id} ({profile}) under {parent}; its key stays at {keyUri}.");
                return 0;
            }
            case "list":
                cl.RejectUnknown();
                await ListAsync(env, o, ct);
                return 0;
            default:
                throw new UsageException($"Unknown pki subcommand '{verb}'.");
        }
    }

    /// <summary>
    /// One line per CA, then its key URI (where the key lives; never the key) and the SHA-256 fingerprint of its
    /// certificate, as <c>openssl x509 -noout -fingerprint -sha256</c> prints it, so an operator can compare the two.
    /// </summary>
    private static async Task ListAsync(PncEnvironment env, TextWriter o, CancellationToken ct)
    {
        o.WriteLine($"{"CA",-22} {"profile",-20} {"parent",-18} {"not after",-12} subject");
        foreach (var ca in await env.Ca.CaStore.ListAsync(ct))
        {
            var cert = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(ca.CertificateDer);
            o.WriteLine($"{ca.Id,-22} {ca.ProfileId,-20} {ca.ParentId ?? "(self)",-18} {cert.NotAfter:yyyy-MM-dd}   {cert.SubjectDN}");
            o.WriteLine($"{"",-22} key {ca.KeyUri}");
            o.WriteLine($"{"",-22} sha256 {BitConverter.ToString(System.Security.Cryptography.SHA256.HashData(ca.CertificateDer)).Replace('-', ':')}");
        }
    }
}
