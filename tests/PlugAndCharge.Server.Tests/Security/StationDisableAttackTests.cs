using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Disabling and enabling a station over the real HTTPS API (participant client certificates): identity before
/// anything else, so only the station's own CPO (or the hub operator) switches it off or back on; another CPO gets the
/// 403 every station endpoint gives it, and the station's state is untouched.
/// </summary>
public sealed class StationDisableAttackTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static int _cpos;

    private async Task<HttpClient> NewCpoAsync()
    {
        var n = Interlocked.Increment(ref _cpos);
        var id = $"cpo-dis{n}";
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/v1/participants", new { id, role = "Cpo", identities = new[] { $"DED{n:00}" }, organization = $"Disable CPO {n}" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return f.Client(await f.IssueClientCertificateAsync(id));
    }

    [Fact]
    public async Task Another_CPO_can_neither_disable_nor_enable_a_station_and_only_its_CPO_or_the_hub_operator_can()
    {
        using var owner = await NewCpoAsync();
        using var other = await NewCpoAsync();
        using var admin = f.Client(f.AdminCertificate);
        var stationId = "CS-" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/v1/ocpp/stations",
            new { stationId, securityProfile = 2, password = "a-station-password-0123" })).StatusCode);
        var store = f.App.Services.GetRequiredService<IStationStore>();

        // Another CPO cannot switch off a competitor's station ...
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync($"/v1/ocpp/stations/{stationId}/disable", new { reason = "hostile" })).StatusCode);
        Assert.False((await store.FindAsync(stationId))!.Disabled);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync("/v1/ocpp/stations/CS-NO-SUCH-STATION/disable", null)).StatusCode);

        // ... nor switch back on one its CPO disabled.
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync($"/v1/ocpp/stations/{stationId}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsync($"/v1/ocpp/stations/{stationId}/enable", null)).StatusCode);
        var still = (await store.FindAsync(stationId))!;
        Assert.True(still.Disabled);
        Assert.NotNull(still.PasswordHash); // disabling keeps the registration and its password record

        // A reason is short text, not a payload.
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync($"/v1/ocpp/stations/{stationId}/disable", new { reason = new string('x', 201) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync($"/v1/ocpp/stations/{stationId}/disable", new { reason = "line\nbreak" })).StatusCode);

        // The hub operator may act on any station.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/v1/ocpp/stations/{stationId}/enable", null)).StatusCode);
        Assert.False((await store.FindAsync(stationId))!.Disabled);
    }
}
