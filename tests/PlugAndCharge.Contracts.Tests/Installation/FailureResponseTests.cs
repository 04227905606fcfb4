using System.Security.Cryptography;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Installation;

/// <summary>Every failure is a complete, CPS-signed CertificateInstallationRes with the ISO ResponseCode.</summary>
public class FailureResponseTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private ContractWorld W => fx.World;

    /// <summary>Decodes the answer, checks it is a full message signed by the CPS leaf, returns its ResponseCode.</summary>
    private string AssertSignedFailure(InstallationOutcome outcome, InstallationResult expected, string expectedCode, string body = "CertificateInstallationRes")
    {
        Assert.Equal(expected, outcome.Result);
        Assert.Equal(expectedCode, outcome.ResponseCode);
        var message = ExiSchema.Iso2.Decode(outcome.Response);
        var res = message.Element("Body")!.Element(body)!;
        Assert.Equal(expectedCode, res.Element("ResponseCode")!.Text);
        foreach (var name in new[] { "SAProvisioningCertificateChain", "ContractSignatureCertChain", "ContractSignatureEncryptedPrivateKey", "DHpublickey", "eMAID" })
            Assert.NotNull(res.Element(name));
        var cps = W.Services.Signers.Default(IsoStandard.Iso15118_2)!;
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(cps.Leaf.SubjectPublicKeyInfo.GetEncoded(), out _);
        Assert.True(ExiSignature.Verify(ExiSchema.Iso2, message, key).IsValid);
        return expectedCode;
    }

    [Fact]
    public async Task Unknown_vehicle_gets_FAILED_NoCertificateAvailable()
    {
        var car = await W.NewVehicleAsync();
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()), InstallationResult.UnknownVehicle, "FAILED_NoCertificateAvailable");
    }

    [Fact]
    public async Task Vehicle_without_contract_gets_FAILED_NoCertificateAvailable()
    {
        var car = await W.RegisteredVehicleAsync();
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()), InstallationResult.NoContract, "FAILED_NoCertificateAvailable");
    }

    [Fact]
    public async Task Terminated_contract_gets_FAILED_ContractCanceled_and_its_status_says_so()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        await W.Services.Contracts.IssueCertificateAsync(ContractWorld.Emsp, contract.Emaid, "test");
        await W.Services.Contracts.TerminateAsync(ContractWorld.Emsp, contract.Emaid, "customer left", "test");
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()), InstallationResult.ContractCanceled, "FAILED_ContractCanceled");
        var status = await W.Services.Contracts.GetStatusAsync(contract.Emaid);
        Assert.Equal(ContractState.Terminated, status.State);
        Assert.Equal(ContractCertificateState.Revoked, status.Certificate);
        Assert.False(status.IsAuthorizable);
    }

    [Fact]
    public async Task Revoked_provisioning_certificate_gets_FAILED_CertificateRevoked()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        await W.Services.Vehicles.RevokeAsync(ContractWorld.Oem, car.Pcid, "test");
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()), InstallationResult.CertificateRevoked, "FAILED_CertificateRevoked");
    }

    [Fact]
    public async Task Provisioning_certificate_from_an_unregistered_OEM_hierarchy_gets_FAILED_CertChainError()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        // Another PKI (not registered) certifies a key under the same PCID: the signature is fine, the chain is not.
        var rogueCa = CertificateAuthorityServices.InMemory();
        await DevelopmentHierarchy.CreateAsync(rogueCa.Hierarchy, rogueCa.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "test");
        var rogue = await VehicleSimulator.CreateAsync(rogueCa, "iso2-oem-subca2", car.Pcid, car.TrustedV2GRoots);
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, rogue.BuildInstallationRequest()), InstallationResult.CertChainError, "FAILED_CertChainError");
    }

    [Fact]
    public async Task No_CPS_signer_under_the_vehicles_roots_gets_FAILED_NoCertificateAvailable()
    {
        var (registered, _) = await W.VehicleWithContractAsync();
        var foreignRoot = W.MoRoot2; // any root that no CPS signer chains to
        var car = new VehicleSimulator(registered.ProvisioningKey, registered.ProvisioningCertificate, registered.ProvisioningSubCas, [foreignRoot]);
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest()), InstallationResult.NoMatchingRoot, "FAILED_NoCertificateAvailable");
    }

    [Fact]
    public async Task Tampered_request_gets_FAILED_SignatureError()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        var message = ExiSchema.Iso2.Decode(car.BuildInstallationRequest());
        var serial = message.Descendant("X509SerialNumber")!;
        serial.Value = ExiValue.FromInteger(serial.Value.AsBigInteger() + 1);
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, ExiSchema.Iso2.Encode(message)), InstallationResult.SignatureInvalid, "FAILED_SignatureError");

        // A request signed by another key than the certificate's.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var impostor = new VehicleSimulator(other, car.ProvisioningCertificate, car.ProvisioningSubCas, car.TrustedV2GRoots);
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, impostor.BuildInstallationRequest()), InstallationResult.SignatureInvalid, "FAILED_SignatureError");
    }

    [Fact]
    public async Task Garbage_gets_a_complete_FAILED_response_not_an_exception()
    {
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, [0x80, 0x98, 0x02, 0x10, 0xFF]), InstallationResult.Malformed, "FAILED");
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, []), InstallationResult.Malformed, "FAILED");
    }

    [Fact]
    public async Task Update_of_a_terminated_contract_gets_FAILED_ContractCanceled()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        using var installed = car.AcceptIso2Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        await W.Services.Contracts.TerminateAsync(null, contract.Emaid, "fraud", "test");
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(installed)), InstallationResult.ContractCanceled, "FAILED_ContractCanceled", "CertificateUpdateRes");
    }

    [Fact]
    public async Task Update_with_a_revoked_contract_certificate_gets_FAILED_CertificateRevoked()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        using var installed = car.AcceptIso2Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        var serial = PlugAndCharge.Contracts.Pools.CertificateFacts.SerialHex(PlugAndCharge.Contracts.Pools.CertificateFacts.Read(installed.Certificate, "c"));
        await W.Ca.Revoker.RevokeAsync("iso2-mo-subca2", serial, PlugAndCharge.Pki.Revocation.RevocationReason.KeyCompromise, "test");
        AssertSignedFailure(await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(installed)), InstallationResult.CertificateRevoked, "FAILED_CertificateRevoked", "CertificateUpdateRes");
    }
}
