using PlugAndCharge.Pki.KeyBackends.Tests;
using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Pki.Pkcs11.Tests;

/// <summary>Certificates and CRLs signed by CA keys on SoftHSM verify under openssl.</summary>
public class HsmHierarchyTests
{
    private static string OnToken(string name) => $"pkcs11:token={SoftHsm.Token};object={name}";

    [Fact]
    public async Task An_ISO_15118_2_MO_hierarchy_on_the_token_issues_certificates_and_CRLs_that_openssl_verifies()
    {
        var result = await HierarchyProof.ProveAsync(SoftHsm.Provider(), "iso2", KeyAlgorithm.EcP256, OnToken);
        Assert.All(result.Cas, c => Assert.StartsWith("pkcs11:", c.Record.KeyUri));
    }

    [Fact]
    public async Task An_ISO_15118_20_MO_hierarchy_with_P521_keys_on_the_token_verifies_under_openssl()
        => await HierarchyProof.ProveAsync(SoftHsm.Provider(), "iso20", KeyAlgorithm.EcP521, OnToken);

    [Fact]
    public async Task An_ISO_15118_20_MO_hierarchy_with_Ed448_keys_on_the_token_verifies_under_openssl()
    {
        var token = Pkcs11Module.Load(SoftHsm.ModulePath).Token(SoftHsm.Token, _ => SoftHsm.UserPin, 8);
        // Debian 12's SoftHSM 2.6.1 offers CKM_EDDSA; a build without it refuses Ed448 (TokenKeyTests covers that).
        if (!token.Supports(Pkcs11KeyProvider.CkmEddsa)) return;
        await HierarchyProof.ProveAsync(SoftHsm.Provider(), "iso20", KeyAlgorithm.Ed448, OnToken);
    }
}

/// <summary>The whole development hierarchy (V2G, CPO, CPS, MO, OEM with OCSP signers) on the token, as <c>pnc pki init --key-scheme pkcs11:token=...</c> builds it.</summary>
public class HsmDevelopmentHierarchyTests
{
    [Fact]
    public async Task Pki_init_places_every_CA_and_OCSP_signer_key_on_the_token()
    {
        var ca = CertificateAuthorityServices.InMemory();
        var registry = new KeyProviderRegistry([SoftHsm.Provider()]);
        var services = new CertificateAuthorityServices(ca.CaStore, ca.Certificates, ca.Audit, registry);
        var created = await PlugAndCharge.Pki.Authorities.DevelopmentHierarchy.CreateAsync(services.Hierarchy, services.CaStore, "iso2",
            $"pkcs11:token={SoftHsm.Token}", KeyAlgorithm.EcP256, "test");
        Assert.NotEmpty(created);
        foreach (var record in await services.CaStore.ListAsync())
        {
            Assert.StartsWith($"pkcs11:token={SoftHsm.Token};object=", record.KeyUri);
            Assert.StartsWith("pkcs11:", record.OcspSignerKeyUri);
        }
        var crl = await services.Crls.GenerateAsync("iso2-mo-subca2", "test");
        Assert.True(crl.Number > 0);
    }
}
