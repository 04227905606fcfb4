using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

public sealed class HubClientInfoTests
{
    [Fact]
    public async Task Parties_see_each_others_connection_status_and_the_still_alive_check_marks_a_silent_party_offline()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V221);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230);
        await world.AddPartyAsync(Roles.Emsp, "FR", "PLN", OcpiVersion.V230, register: false);

        using var list = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("hubclientinfo", "SENDER"));
        var infos = (await list.EnvelopeAsync())["data"]!.AsArray().ToDictionary(i => i!["party_id"]!.GetValue<string>(), i => i!["status"]!.GetValue<string>());
        Assert.Equal("CONNECTED", infos["CPO"]);
        Assert.Equal("CONNECTED", infos["EMS"]);
        Assert.Equal("PLANNED", infos["PLN"]);

        // The CPO registered first, so it hears about the eMSP (pushed in the background).
        await Eventually(() => cpo.ClientInfos.ContainsKey("DE-EMS"));

        await cpo.StopServerAsync();
        await world.Hub.Services.GetRequiredService<PartyLivenessMonitor>().CheckAllAsync(default);
        Assert.Equal(PartyStatus.Offline, (await world.Hub.Admin.GetAsync(world.PartyIds[cpo]))!.Status);
        await Eventually(() => emsp.ClientInfos.TryGetValue("NL-CPO", out var i) && i["status"]!.GetValue<string>() == "OFFLINE");

        await cpo.StartServerAsync();
        await world.Hub.Services.GetRequiredService<PartyLivenessMonitor>().CheckAllAsync(default);
        Assert.Equal(PartyStatus.Connected, (await world.Hub.Admin.GetAsync(world.PartyIds[cpo]))!.Status);
        world.Traffic.AssertConformant(4);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition());
    }
}

public sealed class OperatorEndpointTests
{
    [Fact]
    public async Task The_operator_creates_a_party_gets_token_A_maps_provider_prefixes_and_sees_its_status()
    {
        await using var world = await HubWorld.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(world.Hub.BaseUrl) };

        using var created = await http.PostAsJsonAsync("/admin/ocpi/parties", new
        {
            name = "Example eMSP", roles = new[] { new { role = "EMSP", countryCode = "DE", partyId = "EMS" } }, providerPrefixes = new[] { "DE-8AC" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var id = body["party"]!["id"]!.GetValue<string>();
        var tokenA = body["tokenA"]!.GetValue<string>();
        Assert.Equal("PLANNED", body["party"]!["status"]!.GetValue<string>());
        Assert.Equal("DE8AC", body["party"]!["providerPrefixes"]![0]!.GetValue<string>());
        Assert.DoesNotContain(tokenA, (await http.GetStringAsync($"/admin/ocpi/parties/{id}")));

        // The same role twice is a conflict; a bad prefix is a 400.
        using var twice = await http.PostAsJsonAsync("/admin/ocpi/parties", new { name = "Again", roles = new[] { new { role = "EMSP", countryCode = "DE", partyId = "EMS" } } });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        using var badPrefix = await http.PutAsJsonAsync($"/admin/ocpi/parties/{id}/provider-prefixes", new { providerPrefixes = new[] { "D8" } });
        Assert.Equal(HttpStatusCode.BadRequest, badPrefix.StatusCode);
        using var prefixes = await http.PutAsJsonAsync($"/admin/ocpi/parties/{id}/provider-prefixes", new { providerPrefixes = new[] { "DE8AC", "DEABC" } });
        Assert.Equal(2, JsonNode.Parse(await prefixes.Content.ReadAsStringAsync())!["providerPrefixes"]!.AsArray().Count);

        // A new token A replaces the first one.
        using var reissue = await http.PostAsync($"/admin/ocpi/parties/{id}/token-a", null);
        var tokenA2 = JsonNode.Parse(await reissue.Content.ReadAsStringAsync())!["tokenA"]!.GetValue<string>();
        var party = await FakeParty.StartAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230, world.Traffic);
        await using var _ = party;
        using var withOld = await party.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, token: tokenA);
        Assert.Equal(HttpStatusCode.Unauthorized, withOld.StatusCode);
        await party.RegisterAsync(world.Hub.VersionsUrl, tokenA2);

        var list = JsonNode.Parse(await http.GetStringAsync("/admin/ocpi/parties"))!.AsArray();
        var view = Assert.Single(list)!;
        Assert.Equal("CONNECTED", view["status"]!.GetValue<string>());
        Assert.True(view["registered"]!.GetValue<bool>());
        Assert.Equal("2.3.0", view["version"]!.GetValue<string>());

        // A registered party cannot be handed a token A.
        using var refused = await http.PostAsync($"/admin/ocpi/parties/{id}/token-a", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        world.Traffic.AssertConformant(3);
    }
}
