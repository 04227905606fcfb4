using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Instances;

/// <summary>
/// Issue 22: disabling a station. Two real hosts on one PostgreSQL database; a real ocpp-rpc station (security profile
/// 2) holds its WebSocket on instance A while its CPO disables it through instance B (HTTPS, client certificate): A ends
/// the connection within a second, the station's next login is refused though its password is right, commands get the
/// 409 of a station connected nowhere, and once enabled (through A) it logs in again with the same password.
/// </summary>
public sealed class StationDisableAcrossInstancesTests(ServiceFixture f, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    private const string Password = "a-disabled-station-password-1";

    private static async Task<JsonElement> Json(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private Dictionary<string, object?> StationConfig(string httpsUrl, string stationId, bool hold) => new()
    {
        ["endpoint"] = httpsUrl.Replace("https://", "wss://") + "/ocpp", ["identity"] = stationId, ["protocol"] = "ocpp2.0.1", ["password"] = Password,
        ["ca"] = f.ParticipantCa.ExportCertificatePem(), ["strict"] = false, ["holdUntilStdinEnds"] = hold,
        ["steps"] = new object[] { new { call = "BootNotification", @params = new { reason = "PowerUp", chargingStation = new { vendorName = "PNC", model = "Disable" } } } },
    };

    private async Task<NodeStation> ConnectAsync(string httpsUrl, string stationId, ConnectedStations at)
    {
        var station = await NodeStation.StartAsync(StationConfig(httpsUrl, stationId, hold: true));
        if (await at.WaitForAsync(stationId, TimeSpan.FromSeconds(20)) == null)
        {
            await station.DisposeAsync();
            throw new TimeoutException($"Station {stationId} did not connect to {httpsUrl}.");
        }
        return station;
    }

    private async Task<List<JsonElement>> AuditedAsync(string action, string stationId)
    {
        var found = new List<JsonElement>();
        await foreach (var e in f.Ca.Audit.ReadAllAsync())
            if (e.Action == action && e.Subject == "ocpp-station/" + stationId) found.Add(JsonDocument.Parse(e.Details).RootElement.Clone());
        return found;
    }

    [Fact]
    public async Task Disabling_through_one_instance_disconnects_the_station_held_by_another_within_a_second_and_keeps_it_out_until_enabled()
    {
        var (app, aUrl) = await f.StartInstanceAsync();
        await using var _a = app;
        var a = app.Services.GetRequiredService<ConnectedStations>();
        using var admin = f.Client(f.AdminCertificate);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants",
            new { id = "cpo-disable", role = "Cpo", identities = new[] { "DEDIS" }, organization = "Disable CPO GmbH" })).StatusCode);
        var login = await f.IssueClientCertificateAsync("cpo-disable");
        using var throughB = f.Client(login);
        using var throughA = f.Client(login, aUrl);
        var id = "CS-" + Guid.NewGuid().ToString("N")[..10];
        await Json(await throughB.PostAsJsonAsync("/v1/ocpp/stations", new { stationId = id, securityProfile = 2, password = Password }), HttpStatusCode.Created);

        await using (var station = await ConnectAsync(aUrl, id, a))
        {
            Assert.Null(f.App.Services.GetRequiredService<ConnectedStations>().Find(id)); // B holds nothing: the disconnect is relayed to A

            var disabling = Stopwatch.StartNew();
            var disabled = await Json(await throughB.PostAsJsonAsync($"/v1/ocpp/stations/{id}/disable", new { reason = "Vandalised, awaiting repair" }));
            while (a.Find(id) != null && disabling.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
            output.WriteLine($"disconnected from A {disabling.ElapsedMilliseconds} ms after POST .../disable was sent to B");
            Assert.Null(a.Find(id));
            Assert.True(disabled.GetProperty("disabled").GetBoolean());
            Assert.Equal("Vandalised, awaiting repair", disabled.GetProperty("disabledReason").GetString());
            await station.FinishAsync();
        }

        // Shown as disabled, since when and why, on both instances, in the station and in the list.
        foreach (var http in new[] { throughA, throughB })
        {
            var view = await Json(await http.GetAsync($"/v1/ocpp/stations/{id}"));
            Assert.True(view.GetProperty("disabled").GetBoolean());
            Assert.Equal(JsonValueKind.String, view.GetProperty("disabledAt").ValueKind);
            Assert.False(view.GetProperty("connected").GetBoolean());
            var listed = (await Json(await http.GetAsync("/v1/ocpp/stations"))).EnumerateArray().Single(s => s.GetProperty("stationId").GetString() == id);
            Assert.Equal("Vandalised, awaiting repair", listed.GetProperty("disabledReason").GetString());
            // Commands get the 409 of a station connected nowhere.
            Assert.Equal("Station offline", (await Json(await http.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null), HttpStatusCode.Conflict))
                .GetProperty("title").GetString());
            Assert.Equal("Station offline", (await Json(await http.GetAsync($"/v1/ocpp/stations/{id}/certificates"), HttpStatusCode.Conflict))
                .GetProperty("title").GetString());
        }

        // With its right password it cannot log in again, on either instance.
        foreach (var url in new[] { aUrl, f.HttpsUrl })
        {
            var refused = await NodeStation.RunAsync(StationConfig(url, id, hold: false));
            Assert.False(refused.Connected, refused.ToString());
            Assert.Equal(403, refused.RefusedWithStatus);
        }

        // Enabled (through A): it logs in with the same password (its registration was kept) and commands reach it.
        var enabled = await Json(await throughA.PostAsync($"/v1/ocpp/stations/{id}/enable", null));
        Assert.False(enabled.GetProperty("disabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledAt").ValueKind);
        await using (var again = await ConnectAsync(aUrl, id, a))
        {
            Assert.Equal("Accepted", (await Json(await throughB.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null))).GetProperty("status").GetString());
            Assert.Single((await again.FinishAsync()).Received("TriggerMessage"));
        }

        var disableAudit = Assert.Single(await AuditedAsync("ocpp.station.disable", id));
        Assert.Equal(("true", "Vandalised, awaiting repair", "cpo-disable"),
            (disableAudit.GetProperty("disconnected").GetString(), disableAudit.GetProperty("reason").GetString(), disableAudit.GetProperty("cpo").GetString()));
        Assert.Single(await AuditedAsync("ocpp.station.enable", id));
    }
}
