using Org.BouncyCastle.X509;
using PlugAndCharge.Cli;
using Xunit;

namespace PlugAndCharge.Cli.Tests;

/// <summary>
/// The operator's path through <c>pnc</c> on a real PostgreSQL: init a hierarchy, issue from an openssl-made CSR,
/// verify the chain (also with openssl), revoke, publish a CRL, and see <c>cert verify --crl</c> refuse the leaf.
/// </summary>
/// <summary>Runs <c>pnc</c> in-process against a fresh database and home folder, as an operator would with --db.</summary>
public abstract class PncCommandTest : IAsyncLifetime
{
    protected PostgresDatabase Db { get; private set; } = null!;
    protected string Dir { get; } = OpenSsl.TempDir();

    public async Task InitializeAsync()
    {
        // With an explicit database the tool wants the key passphrase from configuration, as an operator would give it.
        Environment.SetEnvironmentVariable("PNC_KEY_PASSPHRASE", "cli-test-passphrase");
        Db = await PostgresDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>Offline commands (cert verify, cert lint) get no database options.</summary>
    protected async Task<(int Exit, string Out, string Err)> Pnc(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var offline = args is ["cert", "verify" or "lint", ..];
        var exit = await Program.RunAsync(offline ? args : [.. args, "--db", Db.ConnectionString, "--home", Dir], o, e);
        return (exit, o.ToString(), e.ToString());
    }
}

public sealed class CertificateCommandTests : PncCommandTest
{
    private static readonly PlugAndCharge.Core.Identifiers.Emaid Emaid = PlugAndCharge.Core.Identifiers.Emaid.Create("DE", "8AA", "C12345678");

    private string Save(string name, string text)
    {
        var path = Path.Combine(Dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("iso2", "secp256r1", "ec", "-pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve")]
    [InlineData("iso20", "ed448", "ed448", "")]
    [InlineData("iso20", "secp521r1", "ec", "-pkeyopt ec_paramgen_curve:P-521 -pkeyopt ec_param_enc:named_curve")]
    public async Task Issue_verify_revoke_and_refuse_by_crl(string standard, string keyAlgorithm, string opensslAlg, string keyOpts)
    {
        var init = await Pnc("pki", "init", "--standard", standard, "--key-algorithm", keyAlgorithm);
        Assert.True(init.Exit == 0, init.Err + init.Out);
        Assert.Equal(0, (await Pnc("pki", "init", "--standard", standard, "--key-algorithm", keyAlgorithm)).Exit); // idempotent

        // A contract key and CSR made by openssl, the way an eMSP's own tooling would.
        var key = Path.Combine(Dir, "contract.key");
        var genArgs = new List<string> { "genpkey", "-algorithm", opensslAlg, "-out", key };
        genArgs.AddRange(keyOpts.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0, OpenSsl.Run([.. genArgs]).ExitCode);
        var csr = Path.Combine(Dir, "contract.csr");
        var md = opensslAlg == "ec" ? (standard == "iso2" ? "-sha256" : "-sha512") : null;
        var reqArgs = new List<string> { "req", "-new", "-key", key, "-subj", $"/CN={Emaid.Normalized}/O=Test eMSP/DC=MO", "-out", csr };
        if (md != null) reqArgs.Add(md);
        var req = OpenSsl.Run([.. reqArgs]);
        Assert.True(req.ExitCode == 0, req.Output);

        var issue = await Pnc("cert", "issue", "--profile", $"{standard}/contract", "--csr", csr, "--issuer", $"{standard}-mo-subca2");
        Assert.True(issue.Exit == 0, issue.Err + issue.Out);
        var certs = new X509CertificateParser().ReadCertificates(System.Text.Encoding.ASCII.GetBytes(issue.Out)).ToList();
        Assert.Equal(4, certs.Count); // leaf, MO Sub-CA 2, MO Sub-CA 1, MO root
        var leaf = Save("leaf.pem", Pem(certs[0]));
        var chain = Save("chain.pem", Pem(certs[1]) + Pem(certs[2]));
        var list = await Pnc("pki", "list");
        var root = Save("root.pem", Pem(certs[3]));
        Assert.Contains($"{standard}-mo-root", list.Out);
        // Each CA with its key URI and its certificate's fingerprint, as openssl prints the same certificate's.
        var fingerprint = OpenSsl.Run("x509", "-in", root, "-noout", "-fingerprint", "-sha256");
        Assert.Equal(0, fingerprint.ExitCode);
        var rootLines = list.Out.Split('\n').SkipWhile(l => !l.StartsWith($"{standard}-mo-root ", StringComparison.Ordinal)).Take(3).ToList();
        Assert.Matches(@"^\s+key file:", rootLines[1]);
        Assert.Equal(fingerprint.Output.Trim().Split('=')[1], rootLines[2].Trim()["sha256 ".Length..]);

        var ok = await Pnc("cert", "verify", leaf, "--chain", chain, "--trust", root, "--iso15118", "--emaid", Emaid.ToDisplayString());
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);
        Assert.Contains("valid at", ok.Out);
        var ossl = OpenSsl.Run("verify", "-x509_strict", "-CAfile", root, "-untrusted", chain, leaf);
        Assert.True(ossl.ExitCode == 0, ossl.Output + list.Out);

        var wrongEmaid = await Pnc("cert", "verify", leaf, "--chain", chain, "--trust", root, "--iso15118", "--emaid", PlugAndCharge.Core.Identifiers.Emaid.Create("DE", "8AA", "C87654321").Normalized);
        Assert.Equal(1, wrongEmaid.Exit);
        Assert.Contains("EmaidMismatch", wrongEmaid.Out);
        var untrusted = await Pnc("cert", "verify", leaf, "--trust", root);
        Assert.Equal(1, untrusted.Exit);
        Assert.Contains("UntrustedRoot", untrusted.Out);
        var future = await Pnc("cert", "verify", leaf, "--chain", chain, "--trust", root, "--at", "2090-01-01T00:00:00Z");
        Assert.Equal(1, future.Exit);
        Assert.Contains("Expired", future.Out);

        var serial = certs[0].SerialNumber.ToString(16);
        var revoke = await Pnc("cert", "revoke", serial, "--reason", "keyCompromise", "--issuer", $"{standard}-mo-subca2");
        Assert.True(revoke.Exit == 0, revoke.Err + revoke.Out);
        var crlFile = Path.Combine(Dir, "subca2.crl");
        Assert.Equal(0, (await Pnc("crl", "generate", "--ca", $"{standard}-mo-subca2", "--out", crlFile)).Exit);

        var refused = await Pnc("cert", "verify", leaf, "--chain", chain, "--trust", root, "--crl", crlFile);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("Revoked", refused.Out);
        Assert.Contains("KeyCompromise", refused.Out, StringComparison.OrdinalIgnoreCase);
        var crlPem = Save("subca2.crl.pem", System.Security.Cryptography.PemEncoding.WriteString("X509 CRL", File.ReadAllBytes(crlFile)) + "\n");
        var osslRevoked = OpenSsl.Run("verify", "-crl_check", "-CAfile", root, "-untrusted", chain, "-CRLfile", crlPem, leaf);
        Assert.NotEqual(0, osslRevoked.ExitCode);
        Assert.Contains("revoked", osslRevoked.Output);

        Assert.Equal(0, (await Pnc("audit", "verify")).Exit);
    }

    [Fact]
    public async Task User_mistakes_exit_2_with_a_message_and_no_stack_trace()
    {
        var missing = await Pnc("cert", "verify", Path.Combine(Dir, "nope.pem"), "--trust", Path.Combine(Dir, "nope.pem"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("not found", missing.Err);
        var garbage = Save("garbage.pem", "not a certificate");
        var bad = await Pnc("cert", "verify", garbage, "--trust", garbage);
        Assert.Equal(2, bad.Exit);
        Assert.DoesNotContain("   at ", bad.Err);
        var noTrust = await Pnc("cert", "verify", garbage);
        Assert.Equal(2, noTrust.Exit);
        Assert.Contains("--trust", noTrust.Err);
        var badTime = await Pnc("cert", "verify", garbage, "--trust", garbage, "--at", "yesterday");
        Assert.Equal(2, badTime.Exit);
    }

    [Fact]
    public async Task Real_world_contract_chain_validates_at_a_time_inside_its_validity()
    {
        string V(string f) => TestPaths.Vector(Path.Combine("switchev_sample_certs", f));
        var chain = Save("sw-chain.pem", File.ReadAllText(V("moSubCA2Cert.pem")) + File.ReadAllText(V("moSubCA1Cert.pem")));
        var ok = await Pnc("cert", "verify", V("contractLeafCert.pem"), "--chain", chain, "--trust", V("moRootCACert.pem"), "--iso15118", "--at", "2024-01-01T00:00:00Z");
        Assert.True(ok.Exit == 0, ok.Out);
        var expired = await Pnc("cert", "verify", V("contractLeafCert_Expired.pem"), "--chain", chain, "--trust", V("moRootCACert.pem"), "--at", "2024-01-01T00:00:00Z");
        Assert.Equal(1, expired.Exit);
        Assert.Contains("Expired", expired.Out);
    }

    private static string Pem(X509Certificate c) => System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n";
}

/// <summary>The offline-root ceremony with operator commands: a new sub-CA key makes a CSR, the root signs it.</summary>
public sealed class OfflineRootCeremonyTests : PncCommandTest
{
    [Fact]
    public async Task A_sub_CA_key_asks_with_a_CSR_and_the_root_signs_it()
    {
        Assert.Equal(0, (await Pnc("pki", "init")).Exit);
        var csrFile = Path.Combine(Dir, "subca.csr");
        var csr = await Pnc("pki", "csr", "--key", "file:mo-subca1-b.p8", "--generate", "secp256r1",
            "--subject", "CN=MO Sub-CA 1 B,O=PlugAndCharge Dev,C=DE,DC=MO", "--out", csrFile);
        Assert.True(csr.Exit == 0, csr.Err + csr.Out);
        var req = OpenSsl.Run("req", "-inform", "DER", "-in", csrFile, "-verify", "-noout");
        Assert.True(req.ExitCode == 0, req.Output);

        var signed = await Pnc("pki", "subca", "--id", "iso2-mo-subca1-b", "--profile", "iso2/mo-subca1", "--parent", "iso2-mo-root",
            "--key", "file:mo-subca1-b.p8", "--csr", csrFile);
        Assert.True(signed.Exit == 0, signed.Err + signed.Out);
        var subCa = Path.Combine(Dir, "subca.pem");
        File.WriteAllText(subCa, signed.Out);
        var list = await Pnc("pki", "list");
        Assert.Contains("iso2-mo-subca1-b", list.Out);

        // The new sub-CA's key (which never left its file) now signs: a Sub-CA 2 below it verifies under the MO root.
        var sub2 = await Pnc("pki", "csr", "--key", "file:mo-subca2-b.p8", "--generate", "secp256r1",
            "--subject", "CN=MO Sub-CA 2 B,O=PlugAndCharge Dev,C=DE,DC=MO", "--out", Path.Combine(Dir, "sub2.csr"));
        Assert.Equal(0, sub2.Exit);
        var signed2 = await Pnc("pki", "subca", "--id", "iso2-mo-subca2-b", "--profile", "iso2/mo-subca2", "--parent", "iso2-mo-subca1-b",
            "--key", "file:mo-subca2-b.p8", "--csr", Path.Combine(Dir, "sub2.csr"));
        Assert.True(signed2.Exit == 0, signed2.Err);
        var sub2Pem = Path.Combine(Dir, "sub2.pem");
        File.WriteAllText(sub2Pem, signed2.Out);
        var rootPem = Path.Combine(Dir, "root.pem");
        var issue = await Pnc("cert", "issue", "--profile", "iso2/contract", "--issuer", "iso2-mo-subca2-b", "--csr", await ContractCsr());
        Assert.True(issue.Exit == 0, issue.Err);
        var chain = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificates(System.Text.Encoding.ASCII.GetBytes(issue.Out)).ToList();
        Assert.Equal(4, chain.Count);
        File.WriteAllText(rootPem, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", chain[3].GetEncoded()) + "\n");
        var leaf = Path.Combine(Dir, "leaf.pem");
        File.WriteAllText(leaf, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", chain[0].GetEncoded()) + "\n");
        var verify = OpenSsl.Run("verify", "-CAfile", rootPem, "-untrusted", subCa, "-untrusted", sub2Pem, leaf);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    private async Task<string> ContractCsr()
    {
        var key = Path.Combine(Dir, "c.key");
        OpenSsl.Run("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
        var csr = Path.Combine(Dir, "c.csr");
        var emaid = PlugAndCharge.Core.Identifiers.Emaid.Create("DE", "8AA", "C00000042").Normalized;
        OpenSsl.Run("req", "-new", "-key", key, "-subj", $"/CN={emaid}/O=Test/DC=MO", "-out", csr, "-sha256");
        await Task.CompletedTask;
        return csr;
    }
}
