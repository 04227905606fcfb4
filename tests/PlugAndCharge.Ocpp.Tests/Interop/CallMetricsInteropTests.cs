using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Ocpp.Transport;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>
/// The OCPP call-duration instrument (meter PlugAndCharge.Ocpp) as an operator's listener sees it, with an ocpp-rpc
/// station calling the real endpoint: one measurement per answered CALL, tagged with its action, and an action the
/// version does not define tagged "unknown" (a station must not be able to grow the set of tags).
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class CallMetricsInteropTests(OcppServerFixture server)
{
    private static object Call(string method, object payload) => new { call = method, @params = payload };

    [Fact]
    public async Task Every_answered_call_is_measured_under_its_action_and_an_undefined_action_under_unknown()
    {
        var measured = new ConcurrentQueue<(string Action, double Ms)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == OcppMetrics.MeterName && instrument.Name == "pnc.ocpp.call.duration") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, ms, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "ocpp.action") measured.Enqueue(((string)tag.Value!, ms));
        });
        listener.Start();

        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "Wallbox 1", vendorName = "PNC" } }),
            Call("Heartbeat", new { }),
            Call("Heartbeat", new { }),
            Call("FlyToTheMoon", new { }),
        ]));
        Assert.True(run.Connected, run.ToString());
        Assert.Equal("NotImplemented", run.ErrorCode(3));

        // Other tests of the collection call the same endpoint meanwhile: count at least this station's calls.
        var seen = measured.ToArray();
        Assert.True(seen.Count(m => m.Action == "Heartbeat") >= 2, string.Join(", ", seen));
        Assert.Contains(seen, m => m.Action == "BootNotification");
        Assert.Contains(seen, m => m.Action == "unknown");
        Assert.DoesNotContain(seen, m => m.Action == "FlyToTheMoon");
        Assert.All(seen, m => Assert.True(m.Ms >= 0 && m.Ms < 60_000, $"{m.Action}: {m.Ms} ms"));
    }
}
