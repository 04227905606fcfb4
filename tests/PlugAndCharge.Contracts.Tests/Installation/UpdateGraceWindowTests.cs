using PlugAndCharge.Contracts.Installation;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Contracts.Tests.Installation;

/// <summary>
/// ContractOptions.SupersededCertificateGrace: a CertificateUpdateReq signed with a certificate the contract replaced
/// longer ago than the grace window gets FAILED_CertChainError (the car installs again with its provisioning certificate).
/// </summary>
public sealed class UpdateGraceWindowTests
{
    [Fact]
    public async Task A_certificate_superseded_beyond_the_grace_window_no_longer_updates_the_contract()
    {
        var world = await ContractWorld.CreateAsync(compose: ca =>
        {
            var options = ContractWorld.Options();
            options.SupersededCertificateGrace = TimeSpan.Zero;
            return ContractServices.InMemory(ca, options);
        });
        var (car, _) = await world.VehicleWithContractAsync();
        using var __ = car;
        using var first = car.AcceptIso2Response((await world.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest())).Response);
        var update = await world.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(first));
        Assert.True(update.IsOk, update.Detail);
        using var second = car.AcceptIso2Response(update.Response, first);
        await Task.Delay(5);

        var stale = await world.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(first));
        Assert.Equal(InstallationResult.CertChainError, stale.Result);
        Assert.Equal("FAILED_CertChainError", stale.ResponseCode);
        // The current certificate still updates.
        Assert.True((await world.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildUpdateRequest(second))).IsOk);
    }
}
