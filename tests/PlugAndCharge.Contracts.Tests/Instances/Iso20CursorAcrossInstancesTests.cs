using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Tests.Storage;
using PlugAndCharge.Storage.Contracts;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Contracts.Tests.Instances;

/// <summary>
/// Issue 22: the ISO 15118-20 "next contract" cursor is in the database, so a V2G session whose follow-up
/// CertificateInstallationReq reaches another instance continues the count instead of starting over.
/// </summary>
public class Iso20CursorAcrossInstancesTests(PostgresContractFixture fx) : IClassFixture<PostgresContractFixture>
{
    [Fact]
    public async Task A_follow_up_request_on_another_instance_gets_the_next_contract()
    {
        var w = fx.World;
        await using var otherStore = new PostgresContractStores(fx.Db);
        var other = new ContractServices(w.Ca, otherStore.Roots, otherStore.Vehicles, otherStore.Contracts, otherStore.Webhooks, fx.Options);
        foreach (var signer in w.Services.Signers.All) other.Signers.Add(signer);

        var (car, first) = await w.VehicleWithContractAsync(IsoStandard.Iso15118_20);
        var second = await w.Services.Contracts.BindAsync(ContractWorld.Emsp, new ContractBinding { Pcid = car.Pcid, ProviderPrefix = "DE8AB" }, "test");

        // The vehicle prefers the second, takes both: the first answer on instance one, the follow-up on instance two.
        var a = car.AcceptIso20Response((await w.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(2, [second.Emaid]))).Response);
        var b = car.AcceptIso20Response((await other.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(2, [second.Emaid]))).Response);
        Assert.Equal((second.Emaid, 1), (a.Contract.Emaid, a.Remaining));
        Assert.Equal((first.Emaid, 0), (b.Contract.Emaid, b.Remaining));

        // A new session starts over, wherever it lands.
        car.SessionId = [8, 7, 6, 5, 4, 3, 2, 1];
        var c = car.AcceptIso20Response((await other.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest(2, [second.Emaid]))).Response);
        Assert.Equal((second.Emaid, 1), (c.Contract.Emaid, c.Remaining));
    }
}
