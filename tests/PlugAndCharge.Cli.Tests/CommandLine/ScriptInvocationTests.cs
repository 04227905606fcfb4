using Xunit;

namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>The command lines that scripts, run.sh, the fault suite and the docs give pnc still parse.</summary>
public sealed class ScriptInvocationTests
{
    [Theory]
    [InlineData("up")] // run.sh
    [InlineData("up", "--urls", "http://127.0.0.1:6080", "--https-urls", "https://127.0.0.1:6443")]
    [InlineData("pki", "init")] // scripts/cluster.sh
    [InlineData("serve", "--urls", "http://127.0.0.1:7001", "--https-urls", "https://127.0.0.1:7002", "--admin-credential")]
    [InlineData("serve", "--urls", "http://0.0.0.0:80", "--https-urls", "https://0.0.0.0:443", "--ocpi-base-url", "https://hub.example.com/ocpi")]
    [InlineData("audit", "verify")] // the fault suite
    [InlineData("pki", "init", "--standard", "iso20", "--key-algorithm", "secp521r1", "--key-scheme", "azurekv:vault=https://pnc.vault.azure.net")]
    [InlineData("pki", "init", "--standard", "iso2", "--key-scheme", "pkcs11:token=V2G")]
    [InlineData("pki", "csr", "--key", "file:mo-subca1-b.p8", "--generate", "secp256r1", "--subject", "CN=MO Sub-CA 1 B,O=PlugAndCharge Dev,C=DE,DC=MO", "--out", "s.csr")]
    [InlineData("pki", "subca", "--id", "iso2-mo-subca1-b", "--profile", "iso2/mo-subca1", "--parent", "iso2-mo-root", "--key", "file:k.p8", "--csr", "s.csr")]
    [InlineData("cert", "issue", "--profile", "iso2/contract", "--csr", "c.csr", "--issuer", "iso2-mo-subca2", "--subject", "CN=x", "--days", "30")]
    [InlineData("cert", "revoke", "0A1B", "--reason", "keyCompromise", "--issuer", "iso2-mo-subca2")]
    [InlineData("cert", "verify", "leaf.pem", "--chain", "chain.pem", "--trust", "root.pem", "--crl", "a.crl", "--crl", "b.crl", "--at", "2024-01-01T00:00:00Z", "--iso15118", "--emaid", "DE8AAC12345678")]
    [InlineData("cert", "verify", "--iso15118", "leaf.pem", "--trust", "root.pem")]
    [InlineData("crl", "generate", "--ca", "iso2-mo-subca2", "--out", "x.crl")]
    [InlineData("exi", "decode", "--fragment", "AuthorizationReq", "80", "--schema", "iso2", "--json")]
    [InlineData("exi", "encode", "m.xml", "--fragment", "--hex")]
    [InlineData("exi", "decode", "@not-a-response-file")]
    public void Parses(params string[] args)
    {
        var parsed = PncCommandLine.Create().Parse(args, CommandLineUsage.Parser);
        Assert.Empty(parsed.Errors.Select(e => e.Message));
        Assert.Equal(args.TakeWhile(a => !a.StartsWith('-')).Take(2).Last(), parsed.CommandResult.Command.Name);
    }
}
