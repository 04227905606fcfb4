using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// The OCPP module's instruments (meter <c>PlugAndCharge.Ocpp</c>), read with <c>dotnet-counters</c> or any
/// System.Diagnostics.Metrics listener: how long the service takes to answer a station's CALL, from the moment the
/// message's first frame is readable on the connection to the moment the answer is written to it. Set beside what the
/// station measures, it tells the service's share of a latency from the network's, the scheduler's and the station's.
/// </summary>
public static class OcppMetrics
{
    public const string MeterName = "PlugAndCharge.Ocpp";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>(
        "pnc.ocpp.call.duration", unit: "ms", description: "A station's CALL: first frame readable to answer written, by action");

    /// <summary>Records one answered CALL; an action the version does not define counts as "unknown" so the tag stays bounded.</summary>
    public static void CallAnswered(OcppVersion version, string action, long startedAt)
    {
        if (!CallDuration.Enabled) return;
        var tag = OcppActions.IsDefined(version, action) ? action : "unknown";
        CallDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("ocpp.action", tag));
    }
}
