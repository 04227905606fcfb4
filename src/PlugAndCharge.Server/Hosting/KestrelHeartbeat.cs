using System.Reflection;
using Microsoft.AspNetCore.Hosting.Server;

namespace PlugAndCharge.Server.Hosting;

/// <summary>
/// Sets how often Kestrel walks its connections. Kestrel's heartbeat visits every open connection once a second (its
/// timeouts and the Date header are kept with it); with tens of thousands of stations each walk took about 16 ms of a
/// core here, 1.6 % of it, and lifted the service's own Authorize p99 at 200/s from about 3.5 to 5.6 ms
/// (docs/performance.md, "Kestrel's connection walk"). An upgraded WebSocket uses none of those timeouts, so a
/// longer interval costs only their precision: Kestrel's HTTP timeouts fire up to one interval late and the Date header
/// may be that much behind. .NET has no setting for it; this changes the interval of the running heartbeat through
/// Kestrel's non-public fields, and where those are not found (another Kestrel) nothing changes.
/// </summary>
public static class KestrelHeartbeat
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>Sets the running server's heartbeat interval; false when Kestrel's heartbeat could not be reached.</summary>
    public static bool TrySetInterval(IServer server, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero || IntervalField(server) is not { } at) return false;
        at.Field.SetValue(at.Heartbeat, interval);
        return (TimeSpan)at.Field.GetValue(at.Heartbeat)! == interval;
    }

    /// <summary>The running server's heartbeat interval; null when Kestrel's heartbeat cannot be reached (or is not running yet).</summary>
    public static TimeSpan? Interval(IServer server) => IntervalField(server) is { } at ? (TimeSpan)at.Field.GetValue(at.Heartbeat)! : null;

    private static (object Heartbeat, FieldInfo Field)? IntervalField(IServer server)
    {
        try
        {
            // KestrelServer wraps KestrelServerImpl; its ServiceContext holds the Heartbeat, whose loop sleeps _interval.
            object impl = server;
            if (Property(impl, "ServiceContext") is null && impl.GetType().GetFields(Members).FirstOrDefault(f => f.FieldType.Name == "KestrelServerImpl")?.GetValue(impl) is { } inner)
                impl = inner;
            if (Property(impl, "ServiceContext") is not { } context || Property(context, "Heartbeat") is not { } heartbeat) return null;
            return heartbeat.GetType().GetField("_interval", Members) is { } field && field.FieldType == typeof(TimeSpan) ? (heartbeat, field) : null;
        }
        catch (Exception e) when (e is TargetException or FieldAccessException or ArgumentException or MemberAccessException)
        {
            return null;
        }
    }

    private static object? Property(object target, string name) => target.GetType().GetProperty(name, Members)?.GetValue(target);
}
