using System.CommandLine;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Cli.Commands;

internal static class PkiCommands
{
    private static readonly string[] KeyAlgorithmNames = ["secp256r1", "secp384r1", "secp521r1", "ed448"];

    public static Command Create(CommonOptions common) => CommandLineUsage.Group("pki",
        "The CA hierarchy: create the development hierarchy, list the CAs, and the offline-root ceremony (csr, subca).",
        Init(common), List(common), Csr(common), SubCa(common));

    private static Command Init(CommonOptions common)
    {
        var standard = new Option<string>("--standard") { HelpName = "iso2|iso20", Description = "ISO 15118-2 or -20 hierarchy.", DefaultValueFactory = _ => "iso2" };
        standard.AcceptOnlyFromAmong("iso2", "iso20");
        var algorithm = new Option<string>("--key-algorithm") { HelpName = "ALG", Description = "CA key algorithm: secp256r1, secp521r1 or ed448 (default: secp256r1 for iso2, secp521r1 for iso20)." };
        algorithm.CompletionSources.Add("secp256r1", "secp521r1", "ed448");
        var scheme = new Option<string>("--key-scheme")
        {
            HelpName = "SCHEME", DefaultValueFactory = _ => "file",
            Description = "Where the CA keys live: file, memory, pkcs11:token=T or azurekv:vault=URL.",
        };
        scheme.CompletionSources.Add("file", "memory", "pkcs11:token=", "azurekv:vault=");
        var command = common.AddTo(new Command("init", "Creates what is missing of the development hierarchy: V2G root, CPO Sub-CA 1/2, CPS Sub-CA 1/2, " +
            "MO root + Sub-CA 1/2, OEM root + Sub-CA 1/2, each with a delegated OCSP signer. Idempotent.") { standard, algorithm, scheme });
        command.SetAction(async (r, ct) =>
        {
            var std = r.GetValue(standard)!;
            var alg = KeyAlgorithms.FromProfileName(r.GetValue(algorithm) ?? (std == "iso2" ? "secp256r1" : "secp521r1"));
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var created = await DevelopmentHierarchy.CreateAsync(env.Ca.Hierarchy, env.Ca.CaStore, std, r.GetValue(scheme)!, alg, Program.Actor, ct);
            r.Out().WriteLine(created.Count == 0 ? $"The {std} development hierarchy already exists." : $"Created {created.Count} CAs: {string.Join(", ", created)}");
            await ListAsync(env, r.Out(), ct);
            return 0;
        });
        return command;
    }

    private static Command List(CommonOptions common)
    {
        var command = common.AddTo(new Command("list", "Lists the CAs with profile, parent, key URI and certificate fingerprint."));
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            await ListAsync(env, r.Out(), ct);
            return 0;
        });
        return command;
    }

    private static Command Csr(CommonOptions common)
    {
        var key = new Option<string>("--key") { Required = true, HelpName = "URI", Description = "The sub-CA's key: file:, pkcs11: or azurekv: URI." };
        var subject = new Option<string>("--subject") { Required = true, HelpName = "DN", Description = "Subject of the request." };
        var generate = new Option<string>("--generate") { HelpName = "ALG", Description = "Generate the key first: secp256r1, secp384r1, secp521r1 or ed448." };
        generate.CompletionSources.Add(KeyAlgorithmNames);
        var outFile = new Option<string>("--out") { HelpName = "FILE", Description = "Write the request as DER to FILE instead of printing PEM." };
        var command = common.AddTo(new Command("csr", "Writes a PKCS#10 request signed by the key at URI: the sub-CA side of the offline-root ceremony.")
            { key, subject, generate, outFile });
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var uri = Pki.Keys.KeyUri.Parse(r.GetValue(key)!);
            var dn = r.GetValue(subject)!;
            var algorithm = r.GetValue(generate);
            var file = r.GetValue(outFile);
            var signer = algorithm != null
                ? await env.Ca.Keys.GenerateAsync(uri, KeyAlgorithms.FromProfileName(algorithm), ct)
                : await env.Ca.Keys.OpenAsync(uri, ct);
            var csr = await Pki.Issuance.CsrWriter.CreateAsync(signer, dn, ct);
            if (file != null) await File.WriteAllBytesAsync(file, csr, ct);
            else r.Out().Write(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE REQUEST", csr) + "\n");
            r.Error().WriteLine($"CSR for {dn} signed by {uri}.");
            return 0;
        });
        return command;
    }

    private static Command SubCa(CommonOptions common)
    {
        var id = new Option<string>("--id") { Required = true, HelpName = "ID", Description = "Identifier of the new sub-CA." };
        var profile = new Option<string>("--profile") { Required = true, HelpName = "P", Description = "Its profile, e.g. iso2/mo-subca1." };
        var parent = new Option<string>("--parent") { Required = true, HelpName = "CA", Description = "The CA that signs it (the root, on its offline machine)." };
        var key = new Option<string>("--key") { Required = true, HelpName = "URI", Description = "Where the sub-CA's key lives (recorded; the key never comes here)." };
        var csrFile = new Option<string>("--csr") { Required = true, HelpName = "FILE", Description = "The sub-CA's PKCS#10 request from pnc pki csr." };
        var command = common.AddTo(new Command("subca", "Signs a sub-CA certificate for the CSR with the parent CA's key and records the sub-CA " +
            "with its key URI: the root side of the offline-root ceremony. Prints the certificate PEM.") { id, profile, parent, key, csrFile });
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var (caId, profileId, parentId, file) = (r.GetValue(id)!, r.GetValue(profile)!, r.GetValue(parent)!, r.GetValue(csrFile)!);
            var keyUri = Pki.Keys.KeyUri.Parse(r.GetValue(key)!).ToString();
            if (!File.Exists(file)) throw new UsageException($"File '{file}' not found.");
            var csr = Pki.Issuance.CsrReader.Decode(await File.ReadAllBytesAsync(file, ct));
            var verified = Pki.Issuance.CsrReader.ReadAndVerify(csr);
            var created = await env.Ca.Hierarchy.CreateSubCaAsync(caId, profileId, parentId, null, keyUri, verified.KeyAlgorithm, csr, Program.Actor, ct);
            r.Out().Write(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", created.Certificate.GetEncoded()) + "\n");
            r.Error().WriteLine($"Created sub-CA {caId} ({profileId}) under {parentId}; its key stays at {keyUri}.");
            return 0;
        });
        return command;
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
