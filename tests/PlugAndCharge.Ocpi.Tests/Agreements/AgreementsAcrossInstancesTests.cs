using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Agreements;

/// <summary>
/// Two hub instances on one database: an agreement recorded, suspended or resumed through one is enforced by the other
/// within its refresh interval (OcpiHubOptions.AgreementRefreshInterval, a short TTL of the per-instance snapshot).
/// </summary>
public sealed class AgreementsAcrossInstancesTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    [Fact]
    public async Task An_agreement_changed_on_one_instance_is_enforced_by_the_other_within_seconds()
    {
        void Configure(OcpiHubOptions o) { o.RoamingDefault = RoamingDefault.Closed; o.AgreementRefreshInterval = TimeSpan.FromSeconds(1); }
        await using var a = await HubWorld.StartAsync(Configure, s => AgreementWorld.OnPostgres(s, fx));
        await using var b = await HubHost.StartAsync(Configure, s => AgreementWorld.OnPostgres(s, fx));
        var emsp = await a.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
        var cpo = await a.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        await b.Services.GetRequiredService<PartyDirectory>().ReloadAsync();
        string OnB(string url) => b.BaseUrl + url[a.Hub.BaseUrl.Length..];
        async Task<int> AuthorizeOnBAsync()
        {
            using var r = await cpo.CallAsync(HttpMethod.Post, OnB($"{cpo.Hub("tokens", "SENDER")}/CARD9/authorize?type=RFID"), headers: cpo.To(emsp));
            return (await r.StatusAsync()).Status;
        }
        async Task EventuallyAsync(int expected)
        {
            var until = DateTime.UtcNow.AddSeconds(10);
            int seen;
            while ((seen = await AuthorizeOnBAsync()) != expected && DateTime.UtcNow < until) await Task.Delay(200);
            Assert.Equal(expected, seen);
        }

        Assert.Equal(2004, await AuthorizeOnBAsync());
        var agreement = await a.Hub.AgreeAsync(cpo, emsp, [AgreementScope.RealTimeAuthorization]);
        await EventuallyAsync(1000);
        await a.Hub.Agreements().SuspendAsync(agreement.Id, agreement.RowVersion, "test");
        await EventuallyAsync(2004);
        // A change based on a version another writer already replaced is refused, never applied.
        await Assert.ThrowsAsync<OcpiConcurrencyException>(() => b.Services.GetRequiredService<RoamingAgreementAdministration>()
            .ResumeAsync(agreement.Id, agreement.RowVersion, "test"));
        a.Traffic.AssertConformant(2);
    }
}
