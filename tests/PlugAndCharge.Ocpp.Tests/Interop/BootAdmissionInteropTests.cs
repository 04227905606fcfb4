using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>
/// BootNotification under a storm (OCPP 2.0.1 B01-B03, 1.6 §4.2): past the instance's boot admission a station is told
/// Pending with a retry interval, spread over the seconds the instance needs; while Pending or Rejected it may send
/// nothing but BootNotification (SecurityError otherwise); once admitted it is Accepted with the heartbeat interval.
/// The admission knobs are changed on the shared fixture for one test at a time and put back.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class BootAdmissionInteropTests(OcppServerFixture server)
{
    private static object Call(string method, object payload) => new { call = method, @params = payload };

    private static readonly object Boot201 = Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "Wallbox 1", vendorName = "PNC" } });
    private static readonly object Boot16 = Call("BootNotification", new { chargePointVendor = "PNC", chargePointModel = "Wallbox 1" });

    [Fact]
    public async Task A_burst_of_boots_is_answered_Pending_with_retry_intervals_spread_out_and_Accepted_with_the_heartbeat_interval()
    {
        var ids = new List<string>();
        for (var i = 0; i < 40; i++) ids.Add(await server.RegisterStationAsync());
        var perSecond = server.Options.BootsPerSecond;
        server.Options.BootsPerSecond = 5;
        List<JsonElement> answers;
        try
        {
            // Connected first, so the boots arrive together rather than at the pace of the TLS handshakes.
            var sockets = await Task.WhenAll(ids.Select(ConnectAsync));
            answers = (await Task.WhenAll(sockets.Select(BootAsync))).ToList();
        }
        finally
        {
            server.Options.BootsPerSecond = perSecond;
        }

        var accepted = answers.Where(a => a.GetProperty("status").GetString() == "Accepted").ToList();
        var pending = answers.Where(a => a.GetProperty("status").GetString() == "Pending").ToList();
        Assert.NotEmpty(accepted);
        Assert.True(pending.Count >= 25, $"{pending.Count} of 40 were Pending: {string.Join(", ", answers)}");
        Assert.Equal(40, accepted.Count + pending.Count);
        Assert.All(accepted, a => Assert.Equal(server.Options.HeartbeatIntervalSeconds, a.GetProperty("interval").GetInt32()));
        var intervals = pending.Select(p => p.GetProperty("interval").GetInt32()).ToList();
        Assert.All(intervals, i => Assert.InRange(i, (int)server.Options.BootRetryMin.TotalSeconds, (int)server.Options.BootRetryMax.TotalSeconds));
        // At 5 boots a second (4 of them for retries) 25+ Pending stations cannot all be told the same second.
        Assert.True(intervals.Distinct().Count() >= 5, "retry intervals: " + string.Join(",", intervals));
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp1.6")]
    public async Task A_Pending_station_may_only_boot_again_and_is_Accepted_when_it_retries(string protocol)
    {
        var v16 = protocol == "ocpp1.6";
        var id = await server.RegisterStationAsync();
        var boot = v16 ? Boot16 : Boot201;
        var authorize = v16 ? Call("Authorize", new { idTag = "TAG-1" }) : Call("Authorize", new { idToken = new { idToken = "TAG-1", type = "Central" } });
        var saved = server.Options.MaxBootsInFlight;
        server.Options.MaxBootsInFlight = 0;
        try
        {
            await using var station = await NodeStation.StartAsync(server.StationConfig(id, protocol,
            [
                boot, authorize, Call("Heartbeat", new { }), new { signal = "pending" }, new { sleepMs = 500 }, boot, Call("Heartbeat", new { }),
            ]));
            await station.WaitForSignalAsync("pending");
            server.Options.MaxBootsInFlight = saved;
            var run = await station.FinishAsync();

            Assert.Equal("Pending", run.Ok(0).GetProperty("status").GetString());
            Assert.InRange(run.Ok(0).GetProperty("interval").GetInt32(), 1, (int)server.Options.BootRetryMax.TotalSeconds);
            // B02.FR.09: anything but BootNotification from a Pending station is a SecurityError.
            Assert.Equal("SecurityError", run.ErrorCode(1));
            Assert.Equal("SecurityError", run.ErrorCode(2));
            Assert.Equal("Accepted", run.Ok(3).GetProperty("status").GetString());
            Assert.Equal(server.Options.HeartbeatIntervalSeconds, run.Ok(3).GetProperty("interval").GetInt32());
            Assert.True(run.Ok(4).TryGetProperty("currentTime", out _));
        }
        finally
        {
            server.Options.MaxBootsInFlight = saved;
        }
    }

    [Fact]
    public async Task A_station_withdrawn_since_its_login_is_Rejected_and_then_refused_everything_but_BootNotification()
    {
        var id = await server.RegisterStationAsync();
        await using var station = await NodeStation.StartAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            new { signal = "connected" }, new { sleepMs = 300 }, Boot201, Call("Heartbeat", new { }),
        ]));
        await station.WaitForSignalAsync("connected");
        await server.Stations.DisableAsync(id, DateTimeOffset.UtcNow, "test");
        var run = await station.FinishAsync();

        Assert.Equal("Rejected", run.Ok(0).GetProperty("status").GetString());
        Assert.True(run.Ok(0).GetProperty("interval").GetInt32() > 0);
        Assert.Equal("SecurityError", run.ErrorCode(1));
    }

    [Fact]
    public async Task A_station_that_reconnects_without_booting_is_served_as_before()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [Call("Heartbeat", new { })]));
        Assert.True(run.Ok(0).TryGetProperty("currentTime", out _));
    }

    [Fact]
    public async Task A_station_silent_for_longer_than_the_silence_limit_is_disconnected_and_a_talking_one_is_not()
    {
        var silent = await ConnectAsync(await server.RegisterStationAsync());
        var talking = await ConnectAsync(await server.RegisterStationAsync());
        var saved = server.Options.StationSilenceLimit;
        server.Options.StationSilenceLimit = TimeSpan.FromSeconds(2);
        try
        {
            // The sweep runs every quarter of the limit (after the one in progress, at most 30 s, ends).
            var closed = ReceiveCloseAsync(silent);
            var deadline = DateTime.UtcNow.AddSeconds(45);
            while (!closed.IsCompleted && DateTime.UtcNow < deadline)
            {
                await talking.SendAsync("""[2,"h","Heartbeat",{}]"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                await talking.ReceiveAsync(new byte[1024], CancellationToken.None);
                await Task.WhenAny(closed, Task.Delay(500));
            }
            Assert.True(closed.IsCompleted, "the silent station is still connected");
            Assert.Equal(WebSocketState.Open, talking.State);
        }
        finally
        {
            server.Options.StationSilenceLimit = saved;
            silent.Dispose();
            talking.Dispose();
        }
    }

    /// <summary>Completes when the service ends the connection (a close frame, or the socket closed under it).</summary>
    private static async Task ReceiveCloseAsync(ClientWebSocket ws)
    {
        var buffer = new byte[1024];
        try
        {
            while ((await ws.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close) { }
        }
        catch (WebSocketException)
        {
        }
    }

    /// <summary>A station connected over a real ClientWebSocket (TLS, Basic auth).</summary>
    private async Task<ClientWebSocket> ConnectAsync(string stationId)
    {
        var ws = new ClientWebSocket();
        ws.Options.AddSubProtocol("ocpp2.0.1");
        ws.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{stationId}:{OcppServerFixture.Password}")));
        ws.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await ws.ConnectAsync(new Uri($"{server.Endpoint}/{stationId}"), CancellationToken.None);
        return ws;
    }

    /// <summary>Boots and returns the BootNotificationResponse payload; closes the connection.</summary>
    private static async Task<JsonElement> BootAsync(ClientWebSocket ws)
    {
        using (ws)
        {
            var boot = """[2,"b1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"Storm","vendorName":"PNC"}}]"""u8.ToArray();
            await ws.SendAsync(boot, WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[4096];
            var r = await ws.ReceiveAsync(buffer, CancellationToken.None);
            using var frame = JsonDocument.Parse(buffer.AsMemory(0, r.Count));
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            return frame.RootElement[2].Clone();
        }
    }
}
