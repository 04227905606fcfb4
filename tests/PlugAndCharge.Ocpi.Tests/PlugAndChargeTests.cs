using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tokens;
using Xunit;
using PlugAndCharge.Contracts.Contracts;

namespace PlugAndCharge.Ocpi.Tests;

/// <summary>The hub answers from its own contract and certificate records before bothering the eMSP.</summary>
public sealed class PlugAndChargeTests
{
    private static readonly Emaid Revoked = Emaid.Create("DE", "8AC", "C00000001");
    private static readonly Emaid Expired = Emaid.Create("DE", "8AC", "C00000002");
    private static readonly Emaid Terminated = Emaid.Create("DE", "8AC", "C00000003");
    private static readonly Emaid Valid = Emaid.Create("DE", "8AC", "C00000004");

    [Theory]
    [InlineData(OcpiVersion.V230, "EMAID")]
    [InlineData(OcpiVersion.V221, "OTHER")]
    public async Task Revoked_expired_and_terminated_contracts_are_refused_without_asking_the_eMSP_and_valid_ones_are_relayed(OcpiVersion cpoVersion, string type)
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", cpoVersion);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230, providerPrefixes: ["DE8AC"]);
        var now = DateTimeOffset.UtcNow;
        world.Hub.Contracts.Set(Revoked, ContractState.Active, ContractCertificateState.Revoked);
        world.Hub.Contracts.Set(Expired, ContractState.Active, ContractCertificateState.Expired);
        world.Hub.Contracts.Set(Terminated, ContractState.Terminated, ContractCertificateState.Revoked);
        world.Hub.Contracts.Set(Valid, ContractState.Active, ContractCertificateState.Valid);

        async Task<string> Allowed(Emaid e)
        {
            using var r = await cpo.CallAsync(HttpMethod.Post, $"{cpo.Hub("tokens", "SENDER")}/{e.Normalized}/authorize?type={type}");
            var data = (await r.EnvelopeAsync())["data"]!;
            Assert.Equal(type, data["token"]!["type"]!.GetValue<string>());
            return data["allowed"]!.GetValue<string>();
        }

        Assert.Equal("BLOCKED", await Allowed(Revoked));
        Assert.Equal("EXPIRED", await Allowed(Expired));
        Assert.Equal("BLOCKED", await Allowed(Terminated));
        Assert.Equal(0, emsp.AuthorizeCalls);

        Assert.Equal("ALLOWED", await Allowed(Valid));
        Assert.Equal(1, emsp.AuthorizeCalls);
        world.Traffic.AssertConformant(5);
    }

    [Fact]
    public async Task The_OCPP_side_authorizes_hub_contracts_through_the_same_relay()
    {
        await using var world = await HubWorld.StartAsync();
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V221, providerPrefixes: ["DE8AC"]);
        var now = DateTimeOffset.UtcNow;
        world.Hub.Contracts.Set(Revoked, ContractState.Active, ContractCertificateState.Revoked);
        var bridge = world.Hub.Services.GetRequiredService<HubContractAuthorization>();

        Assert.True(await bridge.IsHubContractAsync(Valid));
        Assert.False(await bridge.IsHubContractAsync(Emaid.Create("FR", "XYZ", "C00000001")));

        var allowed = await bridge.AuthorizeAsync(Valid, new LocationReferences("LOC1"));
        Assert.Equal("ALLOWED", allowed.Allowed);
        Assert.Equal(1000, allowed.Status);
        Assert.Equal("REF-" + Valid.Normalized, allowed.AuthorizationReference);
        var hop = emsp.ReceivedRequests.Single(r => r.Path.EndsWith("/authorize", StringComparison.Ordinal));
        Assert.Equal("?type=OTHER", hop.Query); // the eMSP speaks 2.2.1
        Assert.Equal("HUB", hop.Headers["OCPI-from-party-id"]);

        var revoked = await bridge.AuthorizeAsync(Revoked, null);
        Assert.Equal("BLOCKED", revoked.Allowed);
        Assert.Equal(1, emsp.AuthorizeCalls);

        await emsp.StopServerAsync();
        var down = await bridge.AuthorizeAsync(Valid, null);
        Assert.Null(down.Allowed);
        Assert.Equal(4003, down.Status);
        world.Traffic.AssertConformant(1);
    }
}
