using System.Diagnostics;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Installation;

public sealed class WorldFixture : IAsyncLifetime
{
    public ContractWorld World { get; private set; } = null!;
    public async Task InitializeAsync() => World = await ContractWorld.CreateAsync();
    public Task DisposeAsync() => Task.CompletedTask;
}

public class Iso2InstallationTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private ContractWorld W => fx.World;

    [Fact]
    public async Task The_car_installs_its_contract_decrypts_the_key_and_verifies_the_CPS_signature_up_to_the_V2G_root()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        Assert.Equal("OK", outcome.ResponseCode);
        Assert.Equal(contract.Emaid, outcome.Emaid);

        using var installed = car.AcceptIso2Response(outcome.Response); // signature, chain, decryption, key match
        Assert.Equal(contract.Emaid, installed.Emaid);
        Assert.Equal(2, installed.SubCertificates.Count);

        // Sub-CA 2 before Sub-CA 1, the leaf issued by Sub-CA 2.
        var leaf = CertificateFacts.Read(installed.Certificate, "leaf");
        var sub2 = CertificateFacts.Read(installed.SubCertificates[0], "sub2");
        var sub1 = CertificateFacts.Read(installed.SubCertificates[1], "sub1");
        Assert.Equal(sub2.SubjectDN.ToString(), leaf.IssuerDN.ToString());
        Assert.Equal(sub1.SubjectDN.ToString(), sub2.IssuerDN.ToString());

        // openssl, independently: the contract chain verifies to the MO root.
        OpenSsl.Verify(W.MoRoot2.GetEncoded(), installed.SubCertificates, installed.Certificate);

        var status = await W.Services.Contracts.GetStatusAsync(contract.Emaid);
        Assert.True(status.IsAuthorizable);
    }

    [Fact]
    public async Task A_second_installation_reuses_the_certificate_with_a_fresh_encryption()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        var first = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        var second = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        using var a = car.AcceptIso2Response(first.Response);
        using var b = car.AcceptIso2Response(second.Response);
        Assert.Equal(a.Certificate, b.Certificate);
        Assert.NotEqual(first.Response, second.Response);
    }

    [Fact]
    public async Task An_installation_after_the_certificate_was_revoked_delivers_a_new_certificate_and_key()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        using var first = car.AcceptIso2Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        // The contract stays active, but its key is compromised: the CA operator revokes the certificate directly.
        var stored = (await W.Services.Contracts.FindAsync(contract.Emaid)).Single().Certificate!;
        await W.Ca.Revoker.RevokeAsync(stored.IssuerId!, stored.Serial, Pki.Revocation.RevocationReason.KeyCompromise, "test");

        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        using var second = car.AcceptIso2Response(outcome.Response);
        Assert.NotEqual(first.Certificate, second.Certificate);
        Assert.NotEqual(first.Key.ExportParameters(true).D, second.Key.ExportParameters(true).D);
        Assert.Equal(ContractCertificateState.Valid, (await W.Services.Contracts.GetStatusAsync(contract.Emaid)).Certificate);
    }

    [Fact]
    public async Task The_car_updates_its_contract_with_the_installed_key_as_ECDH_partner()
    {
        var (car, contract) = await W.VehicleWithContractAsync();
        using var installed = car.AcceptIso2Response((await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(installed));
        Assert.True(outcome.IsOk, outcome.Detail);
        using var renewed = car.AcceptIso2Response(outcome.Response, replacing: installed);
        Assert.Equal(contract.Emaid, renewed.Emaid);
        Assert.NotEqual(installed.Certificate, renewed.Certificate);
        // The provisioning key cannot open it: the update is keyed to the installed contract.
        Assert.Throws<VehicleRejectedResponseException>(() => car.AcceptIso2Response(ExiSchema.Iso2.Encode(Rename(outcome.Response))));
    }

    private static ExiElement Rename(byte[] updateRes)
    {
        // Same content presented as an installation response: decrypting with the provisioning key must fail the key check.
        var m = ExiSchema.Iso2.Decode(updateRes);
        var body = m.Element("Body")!;
        var res = body.Element("CertificateUpdateRes")!;
        res.Name = new QName(res.Name.Namespace, "CertificateInstallationRes");
        return m;
    }

    [Fact]
    public async Task Installation_answers_in_milliseconds()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        var request = car.BuildInstallationRequest();
        await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, request);
        var sw = Stopwatch.StartNew();
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.True(outcome.IsOk);
        Assert.True(sw.ElapsedMilliseconds < 500, $"{sw.ElapsedMilliseconds} ms");
    }
}
