using PlugAndCharge.Pki.KeyBackends.Tests;
using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Pki.AzureKeyVault.Tests;

/// <summary>Certificates and CRLs signed by CA keys in the (loopback) vault verify under openssl.</summary>
public class VaultHierarchyTests(LoopbackVault vault) : IClassFixture<LoopbackVault>
{
    private AzureKeyVaultKeyProvider Provider() => new(new FakeCredential(), new KeyVaultClientOptions { Transport = vault.Transport() });

    private string InVault(string name) => $"azurekv:vault={vault.VaultUri.GetLeftPart(UriPartial.Authority)};key={name.Replace('.', '-')}";

    [Fact]
    public async Task An_ISO_15118_2_MO_hierarchy_in_the_vault_issues_certificates_and_CRLs_that_openssl_verifies()
    {
        var result = await HierarchyProof.ProveAsync(Provider(), "iso2", KeyAlgorithm.EcP256, InVault);
        Assert.All(result.Cas, c => Assert.StartsWith("azurekv:", c.Record.KeyUri));
    }

    [Fact]
    public async Task An_ISO_15118_20_MO_hierarchy_with_P521_keys_in_the_vault_verifies_under_openssl()
        => await HierarchyProof.ProveAsync(Provider(), "iso20", KeyAlgorithm.EcP521, InVault);
}
