using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

public sealed class HandshakeTests
{
    [Theory]
    [InlineData(OcpiVersion.V221)]
    [InlineData(OcpiVersion.V230)]
    public async Task A_party_registers_with_token_A_gets_token_C_and_token_A_stops_working(OcpiVersion version)
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", version, register: false);
        var tokenA = cpo.HubToken!;

        var hubCredentials = await cpo.RegisterAsync(world.Hub.VersionsUrl, tokenA);

        Assert.NotEqual(tokenA, cpo.HubToken);
        Assert.Equal(world.Hub.VersionsUrl, hubCredentials["url"]!.GetValue<string>());
        if (version == OcpiVersion.V221)
        {
            var role = Assert.Single(hubCredentials["roles"]!.AsArray())!;
            Assert.Equal("HUB", role["role"]!.GetValue<string>());
            Assert.Equal("DE", role["country_code"]!.GetValue<string>());
            Assert.Null(hubCredentials["hub_party_id"]);
        }
        else
        {
            Assert.Equal("DEHUB", hubCredentials["hub_party_id"]!.GetValue<string>());
            Assert.DoesNotContain(hubCredentials["roles"]!.AsArray(), r => r!["role"]!.GetValue<string>() == "HUB");
        }

        // The hub read the party's versions and details with token B and remembered its endpoints.
        var stored = (await world.Hub.Admin.GetAsync(world.PartyIds[cpo]))!;
        Assert.True(stored.IsRegistered);
        Assert.Equal(PartyStatus.Connected, stored.Status);
        Assert.Equal(version.ToText(), stored.Version);
        Assert.NotNull(stored.Endpoint("tokens", "RECEIVER"));
        Assert.Contains(cpo.ReceivedRequests, r => r.Path == "/ocpi/versions");

        // Token A is gone; token C works for functional modules.
        using var withA = await cpo.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, token: tokenA);
        Assert.Equal(HttpStatusCode.Unauthorized, withA.StatusCode);
        using var list = await cpo.CallAsync(HttpMethod.Get, cpo.Hub("tokens", "SENDER"));
        Assert.Equal(1000, (await list.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // GET credentials gives the hub's credentials for this party.
        using var get = await cpo.CallAsync(HttpMethod.Get, cpo.Hub("credentials", "RECEIVER"));
        Assert.Equal(cpo.HubToken, (await get.EnvelopeAsync())["data"]!["token"]!.GetValue<string>());
        world.Traffic.AssertConformant(6);
    }

    [Fact]
    public async Task Update_rotates_token_C_and_token_B_and_delete_unregisters()
    {
        await using var world = await HubWorld.StartAsync();
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230);
        var firstC = emsp.HubToken!;
        emsp.RotateTokenB();

        using var put = await emsp.CallAsync(HttpMethod.Put, emsp.Hub("credentials", "RECEIVER"), emsp.CredentialsBody());
        var secondC = (await put.EnvelopeAsync())["data"]!["token"]!.GetValue<string>();
        Assert.NotEqual(firstC, secondC);
        Assert.Equal(HttpStatusCode.Unauthorized, (await emsp.CallAsync(HttpMethod.Get, emsp.Hub("credentials", "RECEIVER"), token: firstC)).StatusCode);
        emsp.HubToken = secondC;
        // The hub now calls the party with the new token B (the party refuses any other).
        await world.Hub.Services.GetService<PartyLivenessMonitor>()!.CheckAllAsync(default);
        Assert.Equal(PartyStatus.Connected, (await world.Hub.Admin.GetAsync(world.PartyIds[emsp]))!.Status);

        using var delete = await emsp.CallAsync(HttpMethod.Delete, emsp.Hub("credentials", "RECEIVER"));
        Assert.Equal(1000, (await delete.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await emsp.CallAsync(HttpMethod.Get, emsp.Hub("tokens", "SENDER"))).StatusCode);
        var stored = (await world.Hub.Admin.GetAsync(world.PartyIds[emsp]))!;
        Assert.False(stored.IsRegistered);
        Assert.Equal(PartyStatus.Suspended, stored.Status);

        // The operator hands out a new token A and the party registers again.
        var tokenA = await world.Hub.Admin.IssueTokenAAsync(world.PartyIds[emsp]);
        await emsp.RegisterAsync(world.Hub.VersionsUrl, tokenA);
        Assert.True((await world.Hub.Admin.GetAsync(world.PartyIds[emsp]))!.IsRegistered);
        world.Traffic.AssertConformant();
    }

    [Fact]
    public async Task The_operator_revokes_a_registered_partys_credentials_and_it_registers_again_with_the_new_token_A()
    {
        await using var world = await HubWorld.StartAsync();
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "REV", OcpiVersion.V230);
        var oldC = emsp.HubToken!;
        // A registered party cannot simply get a new token A...
        await Assert.ThrowsAsync<OcpiConflictException>(() => world.Hub.Admin.IssueTokenAAsync(world.PartyIds[emsp]));

        // ...but the operator can cut its credentials off: token C stops working and the hub forgets token B.
        var tokenA = await world.Hub.Admin.RevokeCredentialsAsync(world.PartyIds[emsp]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await emsp.CallAsync(HttpMethod.Get, emsp.Hub("tokens", "SENDER"), token: oldC)).StatusCode);
        var cut = (await world.Hub.Admin.GetAsync(world.PartyIds[emsp]))!;
        Assert.False(cut.IsRegistered);
        Assert.Null(cut.OutgoingToken);
        Assert.Empty(cut.Endpoints);

        emsp.RotateTokenB();
        await emsp.RegisterAsync(world.Hub.VersionsUrl, tokenA);
        Assert.True((await world.Hub.Admin.GetAsync(world.PartyIds[emsp]))!.IsRegistered);
        Assert.Equal(HttpStatusCode.Unauthorized, (await emsp.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, token: tokenA)).StatusCode);
        world.Traffic.AssertConformant();
    }

    [Fact]
    public async Task Token_is_accepted_base64_and_raw_and_unknown_tokens_get_an_OCPI_401()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V221);

        using var b64 = await cpo.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl);
        using var raw = await cpo.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, rawToken: true);
        using var unknown = await cpo.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, token: "not-a-token");
        Assert.Equal(HttpStatusCode.OK, b64.StatusCode);
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(2000, (await unknown.EnvelopeAsync())["status_code"]!.GetValue<int>());

        var versions = (await b64.EnvelopeAsync())["data"]!.AsArray().Select(v => v!["version"]!.GetValue<string>()).ToList();
        Assert.Equal(["2.2.1", "2.3.0"], versions);
        // X-Request-ID echoed, X-Correlation-ID kept.
        Assert.True(b64.Headers.Contains("X-Request-ID") && b64.Headers.Contains("X-Correlation-ID"));
        world.Traffic.AssertConformant(3);
    }

    [Fact]
    public async Task A_second_POST_is_405_and_a_party_cannot_claim_a_role_it_was_not_given()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V230);
        using var again = await cpo.CallAsync(HttpMethod.Post, cpo.Hub("credentials", "RECEIVER"), cpo.CredentialsBody());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, again.StatusCode);

        var impostor = await world.AddPartyAsync(Roles.Emsp, "FR", "IMP", OcpiVersion.V230, register: false);
        var body = impostor.CredentialsBody();
        body["roles"]![0]!["party_id"] = "CPO";
        body["roles"]![0]!["country_code"] = "NL";
        using var claim = await impostor.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.3.0/credentials", body);
        Assert.Equal(HttpStatusCode.BadRequest, claim.StatusCode);
        Assert.Equal(2001, (await claim.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // Functional modules need token C.
        using var early = await impostor.CallAsync(HttpMethod.Get, world.Hub.BaseUrl + "/ocpi/2.3.0/sender/tokens");
        Assert.Equal(HttpStatusCode.Unauthorized, early.StatusCode);
        world.Traffic.AssertConformant();
    }

    [Fact]
    public async Task A_party_whose_versions_endpoint_refuses_token_B_is_not_registered()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V221, register: false);
        var tokenA = cpo.HubToken!;
        using var versions = await cpo.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl);
        using var post = await cpo.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.2.1/credentials", cpo.CredentialsBody("some-other-token"));
        var envelope = await post.EnvelopeAsync();
        Assert.Equal(3001, envelope["status_code"]!.GetValue<int>());
        Assert.False((await world.Hub.Admin.GetAsync(world.PartyIds[cpo]))!.IsRegistered);
        // Token A still works for a second try.
        await cpo.RegisterAsync(world.Hub.VersionsUrl, tokenA);
        world.Traffic.AssertConformant();
    }
}
