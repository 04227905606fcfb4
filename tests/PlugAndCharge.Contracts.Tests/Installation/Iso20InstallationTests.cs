using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Installation;

public class Iso20InstallationTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private ContractWorld W => fx.World;

    [Fact]
    public async Task The_car_installs_a_P521_contract_with_AES_256_GCM_and_verifies_the_CPS_signature()
    {
        var (car, contract) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20);
        Assert.Equal(IsoStandard.Iso15118_20, contract.Standard);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        var (installed, remaining) = car.AcceptIso20Response(outcome.Response);
        using (installed)
        {
            Assert.Equal(contract.Emaid, installed.Emaid);
            Assert.Equal(0, remaining);
            Assert.Equal(521, installed.Key.KeySize);
        }
        var res = ExiSchema.Iso20.Decode(outcome.Response);
        Assert.Equal("SECP521", res.Descendant("ECDHCurve")!.Text);
        Assert.Equal(94, res.Descendant("SECP521_EncryptedPrivateKey")!.Value.AsBytes().Length);
    }

    [Fact]
    public async Task An_Ed448_car_signs_its_request_and_installs_an_Ed448_contract_delivered_over_X448()
    {
        var (car, contract) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20, ed448: true);
        var request = car.BuildIso20InstallationRequest();
        Assert.Equal(ExiSignatureMethods.Ed448, ExiSchema.Iso20.Decode(request).Descendant("SignatureMethod")!.Attribute("Algorithm")!.Value.ToString());
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, request);
        Assert.True(outcome.IsOk, outcome.Detail);
        var (installed, _) = car.AcceptIso20Response(outcome.Response); // CPS signature, decryption, key ↔ certificate
        using (installed)
        {
            Assert.Equal(contract.Emaid, installed.Emaid);
            Assert.Equal(56, installed.Ed448SecretScalar!.Length);
        }
        Assert.Equal(Pki.Keys.KeyAlgorithm.Ed448, (await W.Services.Contracts.FindAsync(contract.Emaid))[0].Certificate!.KeyAlgorithm);
        var data = ExiSchema.Iso20.Decode(outcome.Response).Descendant("SignedInstallationData")!;
        Assert.Equal("X448", data.Element("ECDHCurve")!.Text);
        Assert.Equal(84, data.Element("X448_EncryptedPrivateKey")!.Value.AsBytes().Length);
        Assert.Null(data.Element("SECP521_EncryptedPrivateKey"));

        // A request whose Ed448 signature was made by another key is refused.
        var impostor = await W.NewVehicleAsync(IsoStandard.Iso15118_20, car.Pcid, ed448: true);
        var forged = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, new VehicleSimulator(impostor.Ed448ProvisioningKey!, car.ProvisioningCertificate, car.ProvisioningSubCas, car.TrustedV2GRoots).BuildIso20InstallationRequest());
        Assert.Equal(InstallationResult.SignatureInvalid, forged.Result);
    }

    [Fact]
    public async Task A_provisioning_certificate_with_an_X448_key_cannot_sign_its_request_and_gets_a_signed_FAILED()
    {
        var x448 = new Org.BouncyCastle.Crypto.Parameters.X448PrivateKeyParameters(new Org.BouncyCastle.Security.SecureRandom());
        var pcid = W.NextPcid();
        var issued = await W.Ca.Issuer.IssueAsync(new Pki.Issuance.IssuanceRequest
        {
            ProfileId = "iso20/oem-provisioning", IssuerId = "iso20-oem-subca2", Actor = "test",
            PublicKey = Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(x448.GeneratePublicKey()),
            Subject = new Org.BouncyCastle.Asn1.X509.X509Name($"CN={pcid},O=PlugAndCharge Vehicle,DC=OEM"),
        });
        var chain = issued.IssuerChain;
        using var signingKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP521);
        using var car = new VehicleSimulator(signingKey, issued.Certificate.GetEncoded(), chain.Take(chain.Count - 1).Select(c => c.GetEncoded()).ToList(), [W.V2GRoot20]);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest());
        Assert.Equal(InstallationResult.Unsupported, outcome.Result);
        var res = ExiSchema.Iso20.Decode(outcome.Response);
        Assert.Equal("FAILED", res.Element("ResponseCode")!.Text);
        Assert.NotNull(res.Element("Header")!.Element("Signature"));
    }

    [Fact]
    public async Task A_certificate_issued_at_binding_follows_the_vehicles_key_family()
    {
        var ed = await W.RegisteredVehicleAsync(IsoStandard.Iso15118_20, ed448: true);
        var p521 = await W.RegisteredVehicleAsync(IsoStandard.Iso15118_20);
        var forEd = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = ed.Pcid, IssueCertificate = true }, "test");
        var forP521 = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = p521.Pcid, IssueCertificate = true }, "test");
        Assert.Equal(Pki.Keys.KeyAlgorithm.Ed448, forEd.Certificate!.KeyAlgorithm);
        Assert.Equal(Pki.Keys.KeyAlgorithm.EcP521, forP521.Certificate!.KeyAlgorithm);
        // The installation delivers that certificate rather than a new one.
        var (installed, _) = ed.AcceptIso20Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, ed.BuildIso20InstallationRequest())).Response);
        using (installed) Assert.Equal(forEd.Certificate.Der, installed.Certificate);
    }

    [Fact]
    public async Task Several_contracts_are_delivered_one_per_request_in_priority_order()
    {
        var (car, first) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20);
        var second = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid }, "test");
        var third = await W.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, ProviderPrefix = "DE8AB" }, "test");

        // The vehicle prefers the third, takes at most two.
        var a = car.AcceptIso20Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(2, [third.Emaid]))).Response);
        var b = car.AcceptIso20Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(2, [third.Emaid]))).Response);
        Assert.Equal((third.Emaid, 1), (a.Contract.Emaid, a.Remaining));
        Assert.Equal((first.Emaid, 0), (b.Contract.Emaid, b.Remaining)); // then the default
        Assert.NotEqual(second.Emaid, b.Contract.Emaid);

        // A new session starts over.
        car.SessionId = [1, 2, 3, 4, 5, 6, 7, 8];
        var c = car.AcceptIso20Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(3))).Response);
        Assert.Equal((first.Emaid, 2), (c.Contract.Emaid, c.Remaining));
    }

    [Fact]
    public async Task Failures_are_complete_signed_responses_with_the_20_codes()
    {
        var unknown = await W.NewVehicleAsync(IsoStandard.Iso15118_20);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, unknown.BuildIso20InstallationRequest());
        Assert.Equal(InstallationResult.UnknownVehicle, outcome.Result);
        var res = ExiSchema.Iso20.Decode(outcome.Response);
        Assert.Equal("WARNING_NoContractMatchingPCIDFound", res.Element("ResponseCode")!.Text);
        Assert.NotNull(res.Element("Header")!.Element("Signature"));
        Assert.Equal(InstallationResult.Malformed, (await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, [1, 2, 3])).Result);
    }
}
