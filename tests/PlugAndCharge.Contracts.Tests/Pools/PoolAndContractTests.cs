using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Tests.Installation;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Pools;

public class PoolAndContractTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private ContractWorld W => fx.World;

    [Fact]
    public async Task Roots_are_listed_with_fingerprints_and_a_duplicate_is_refused()
    {
        var v2g = (await W.Services.Roots.ListAsync(RootType.V2G)).Single(r => r.Standard == IsoStandard.Iso15118_2);
        Assert.Equal(CertificateFacts.Fingerprint(W.V2GRoot2.GetEncoded()), v2g.Fingerprint);
        Assert.Equal("secp256r1", v2g.SignatureAlgorithm);
        var e = await Assert.ThrowsAsync<ContractException>(() => W.Services.Roots.AddAsync(W.V2GRoot2.GetEncoded(), RootType.V2G, null, null, "test"));
        Assert.Equal(ContractError.AlreadyExists, e.Error);
        var leaf = await Assert.ThrowsAsync<ContractException>(() => W.Services.Roots.AddAsync(W.Services.Signers.All[0].LeafDer, RootType.V2G, null, null, "test"));
        Assert.Equal(ContractError.ProfileViolation, leaf.Error);
    }

    [Fact]
    public async Task The_pool_scopes_vehicles_to_the_OEMs_roots_and_WMIs()
    {
        var otherWmi = await W.NewVehicleAsync(pcid: "XYZ00000000000001");
        var e = await Assert.ThrowsAsync<ContractException>(() => W.Services.Vehicles.AddAsync(ContractWorld.Oem, new ProvisioningCertificateUpload(otherWmi.ProvisioningCertificate, otherWmi.ProvisioningSubCas[0], otherWmi.ProvisioningSubCas[1]), "test"));
        Assert.Equal(ContractError.WmiNotAllowed, e.Error);

        var car = await W.NewVehicleAsync();
        var notMine = await Assert.ThrowsAsync<ContractException>(() => W.Services.Vehicles.AddAsync("oem-2", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test"));
        Assert.Equal(ContractError.ChainInvalid, notMine.Error);
        var noSubs = await Assert.ThrowsAsync<ContractException>(() => W.Services.Vehicles.AddAsync(ContractWorld.Oem, new ProvisioningCertificateUpload(car.ProvisioningCertificate, null, null), "test"));
        Assert.Equal(ContractError.ChainInvalid, noSubs.Error);

        var added = await W.Services.Vehicles.AddAsync(ContractWorld.Oem, new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
        Assert.Equal(car.Pcid, added.Pcid);
        Assert.Equal(2, added.SubCaDers.Count);
        Assert.Equal(ContractError.NotOwner, (await Assert.ThrowsAsync<ContractException>(() => W.Services.Vehicles.GetAsync("oem-2", car.Pcid))).Error);
        var lookup = await W.Services.Vehicles.LookupAsync(car.Pcid.ToLowerInvariant());
        Assert.True(lookup.Known);
        Assert.Equal(0, lookup.ActiveContracts);
    }

    [Fact]
    public async Task Minted_EMAIDs_carry_a_valid_check_character_under_the_eMSPs_provider_and_one_contract_is_default()
    {
        var car = await W.RegisteredVehicleAsync();
        var a = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid }, "test");
        var b = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, ProviderPrefix = "DE8AB", IssueCertificate = true }, "test");
        var parsed = Emaid.Parse(a.Emaid, IdentifierStrictness.Strict);
        Assert.Equal("DE8AA", parsed.ProviderPrefix);
        Assert.True(parsed.CheckCharacterValid);
        Assert.True(a.IsDefault);
        Assert.False(b.IsDefault);
        Assert.NotNull(b.Certificate);

        await W.Services.Contracts.SetDefaultAsync(ContractWorld.Emsp, car.Pcid, b.Emaid, "test");
        var contracts = await W.Services.Contracts.ListForVehicleAsync(car.Pcid);
        Assert.Equal(b.Emaid, contracts.Single(c => c.IsDefault).Emaid);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.Equal(b.Emaid, outcome.Emaid);

        var notOurs = await Assert.ThrowsAsync<ContractException>(() => W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, Emaid = "NL-XYZ-C12345678" }, "test"));
        Assert.Equal(ContractError.ProviderNotAllowed, notOurs.Error);
        var twice = await Assert.ThrowsAsync<ContractException>(() => W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, Emaid = a.Emaid }, "test"));
        Assert.Equal(ContractError.AlreadyExists, twice.Error);
        var other = await Assert.ThrowsAsync<ContractException>(() => W.Services.Contracts.TerminateAsync(new ContractOwner("emsp-2", ["DE8AA"]), a.Emaid, "x", "test"));
        Assert.Equal(ContractError.NotOwner, other.Error);
    }

    [Fact]
    public async Task Status_answers_unknown_active_and_ignores_check_character_differences()
    {
        var (_, contract) = await W.VehicleWithContractAsync();
        Assert.False((await W.Services.Contracts.GetStatusAsync("DE8AAC99999999")).Known);
        Assert.Equal(ContractCertificateState.None, (await W.Services.Contracts.GetStatusAsync(contract.Emaid)).Certificate);
        await W.Services.Contracts.IssueCertificateAsync(null, contract.Emaid, "test");
        var status = await W.Services.Contracts.GetStatusAsync(contract.Emaid[..14].ToLowerInvariant());
        Assert.True(status.IsAuthorizable);
    }

    [Fact]
    public async Task Deleting_a_vehicle_terminates_its_contracts_and_revokes_their_certificates()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        var issued = await W.Services.Contracts.IssueCertificateAsync(null, contract.Emaid, "test");
        await W.Services.Vehicles.DeleteAsync(ContractWorld.Oem, car.Pcid, "test");
        Assert.False((await W.Services.Vehicles.LookupAsync(car.Pcid)).Known);
        var after = (await W.Services.Contracts.FindAsync(contract.Emaid))[0];
        Assert.Equal(ContractState.Terminated, after.State);
        Assert.Null(after.Certificate!.WrappedPrivateKey);
        Assert.Equal(CertificateStatus.Revoked, (await W.Ca.Certificates.GetAsync(issued.Certificate!.IssuerId!, issued.Certificate.Serial))!.Status);
    }

    [Fact]
    public async Task eMSP_made_contract_data_is_signed_as_CPS_stored_and_installed_unchanged()
    {
        var car = await W.RegisteredVehicleAsync();
        // The eMSP's own MO CA (here: our dev MO Sub-CA 2 standing in) issues the certificate and encrypts the key itself.
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var emaid = Emaid.Create("DE", "8AA", "CEMSP0001").Normalized;
        var issued = await W.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Actor = "emsp",
            PublicKey = Org.BouncyCastle.Asn1.X509.SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()), Subject = new Org.BouncyCastle.Asn1.X509.X509Name($"CN={emaid},DC=MO"),
        });
        using var vehicleKey = System.Security.Cryptography.ECDiffieHellman.Create(car.ProvisioningKey.ExportParameters(false));
        var enc = PlugAndCharge.Contracts.Crypto.ContractKeyEncryption.EncryptIso2(key.ExportParameters(true).D, vehicleKey.PublicKey);
        var data = new EmspContractData
        {
            ContractCertificate = issued.Certificate.GetEncoded(), SubCaCertificates = issued.IssuerChain.Take(2).Select(c => c.GetEncoded()).ToList(),
            EncryptedPrivateKey = enc.EncryptedPrivateKey, DhPublicKey = enc.DhPublicKey, Emaid = emaid, Pcid = car.Pcid,
        };
        var signed = await W.Services.ContractDataSigning.SignAsync(ContractWorld.Emsp, data, "emsp");
        Assert.Equal(W.Services.Signers.Default(IsoStandard.Iso15118_2)!.RootFingerprint, signed.CpsV2GRootFingerprint);
        using (var fromCps = car.AcceptIso2Response(signed.CertificateInstallationRes)) Assert.Equal(emaid, fromCps.Emaid);

        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        using var installed = car.AcceptIso2Response(outcome.Response);
        Assert.Equal(emaid, installed.Emaid);
        Assert.Equal(issued.Certificate.GetEncoded(), installed.Certificate);

        var pulled = await W.Services.ContractDataSigning.ProvideAsync(ContractWorld.Oem, emaid, car.Pcid, null, "oem");
        Assert.Equal(signed.CertificateInstallationRes, pulled.CertificateInstallationRes);

        var wrongCn = await Assert.ThrowsAsync<ContractException>(() => W.Services.ContractDataSigning.SignAsync(ContractWorld.Emsp, data with { Emaid = "DE8AAC00000001" }, "emsp"));
        Assert.Equal(ContractError.ProfileViolation, wrongCn.Error);
    }

    [Fact]
    public async Task The_OEM_pulls_a_ready_response_for_a_hub_issued_contract()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        var pulled = await W.Services.ContractDataSigning.ProvideAsync(ContractWorld.Oem, contract.Emaid, car.Pcid, null, "oem");
        using var installed = car.AcceptIso2Response(pulled.CertificateInstallationRes);
        Assert.Equal(contract.Emaid, installed.Emaid);
        Assert.Equal(ContractError.NotOwner, (await Assert.ThrowsAsync<ContractException>(() => W.Services.ContractDataSigning.ProvideAsync("oem-2", contract.Emaid, car.Pcid, null, "oem"))).Error);
    }
}
