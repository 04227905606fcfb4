using System.Collections.Concurrent;

namespace PlugAndCharge.FaultSuite;

/// <summary>What one stream of requests saw in one second: sent, answered well, failed (and how, and how fast).</summary>
public sealed class SecondStats
{
    public int Sent, Ok, Failed, SlowFailed;
    public double MaxFailMs, MaxOkMs;
    public ConcurrentDictionary<string, int> Kinds { get; } = new(StringComparer.Ordinal);

    public void Add(SecondStats other)
    {
        Sent += other.Sent; Ok += other.Ok; Failed += other.Failed; SlowFailed += other.SlowFailed;
        MaxFailMs = Math.Max(MaxFailMs, other.MaxFailMs); MaxOkMs = Math.Max(MaxOkMs, other.MaxOkMs);
        foreach (var (k, v) in other.Kinds) Kinds.AddOrUpdate(k, v, (_, c) => c + v);
    }
}

/// <summary>
/// Every stream's outcomes by wall-clock second (Unix seconds), from the HTTP streams of this process and from the node
/// fleet's per-second lines. A request counts in the second it was scheduled.
/// </summary>
public sealed class LoadStats
{
    public const double FailFastMs = 1000;
    private readonly ConcurrentDictionary<(string Stream, long Second), SecondStats> _seconds = new();
    private readonly ConcurrentDictionary<long, int> _connected = new();

    public SecondStats At(string stream, long second) => _seconds.GetOrAdd((stream, second), _ => new SecondStats());

    public void Sent(string stream, long second) => Interlocked.Increment(ref At(stream, second).Sent);

    public void Outcome(string stream, long second, double ms, string? failure)
    {
        var s = At(stream, second);
        lock (s)
        {
            if (failure == null) { s.Ok++; s.MaxOkMs = Math.Max(s.MaxOkMs, ms); return; }
            s.Failed++;
            if (ms > FailFastMs) s.SlowFailed++;
            s.MaxFailMs = Math.Max(s.MaxFailMs, ms);
            s.Kinds.AddOrUpdate(failure, 1, (_, c) => c + 1);
        }
    }

    public void Merge(string stream, long second, SecondStats s)
    {
        var into = At(stream, second);
        lock (into) into.Add(s);
    }

    public void StationsConnected(long second, int connected) => _connected[second] = connected;

    public int? ConnectedAt(long second) => _connected.TryGetValue(second, out var c) ? c : null;

    public IEnumerable<string> Streams => _seconds.Keys.Select(k => k.Stream).Distinct().Order(StringComparer.Ordinal);

    /// <summary>The sum over [from, to) of one stream, or of all streams.</summary>
    public SecondStats Sum(long from, long to, string? stream = null)
    {
        var sum = new SecondStats();
        foreach (var ((name, second), s) in _seconds)
            if (second >= from && second < to && (stream == null || name == stream)) lock (s) sum.Add(s);
        return sum;
    }

    /// <summary>True when every stream in that second had answers and no failures.</summary>
    public bool Clean(long second, IReadOnlyCollection<string> streams) =>
        streams.All(n => _seconds.TryGetValue((n, second), out var s) && s.Failed == 0 && (s.Sent == 0 || s.Ok > 0));
}
