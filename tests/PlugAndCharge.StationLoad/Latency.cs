using System.Collections.Concurrent;

namespace PlugAndCharge.StationLoad;

/// <summary>Durations of one kind (a connect, a boot, one OCPP action) in milliseconds, for percentiles.</summary>
public sealed class Latency
{
    private readonly List<double> _ms = [];

    public void Add(double ms) { lock (_ms) _ms.Add(ms); }

    public int Count { get { lock (_ms) return _ms.Count; } }

    public void Clear() { lock (_ms) _ms.Clear(); }

    /// <summary>"n=…, p50 … p90 … p99 … max … ms" (nearest-rank percentiles).</summary>
    public string Summary()
    {
        double[] s;
        lock (_ms) s = [.. _ms];
        if (s.Length == 0) return "n=0";
        Array.Sort(s);
        return $"n={s.Length}, p50 {P(s, 50):F1} ms, p90 {P(s, 90):F1} ms, p99 {P(s, 99):F1} ms, max {s[^1]:F1} ms";
    }

    public double? Percentile(double p)
    {
        double[] s;
        lock (_ms) s = [.. _ms];
        if (s.Length == 0) return null;
        Array.Sort(s);
        return P(s, p);
    }

    private static double P(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>What the fleet measured: durations by kind and failures by kind ("Authorize: timeout", "connect: 401").</summary>
public sealed class Measurements
{
    public ConcurrentDictionary<string, Latency> Durations { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);

    public Latency Of(string kind) => Durations.GetOrAdd(kind, _ => new Latency());

    public void Error(string kind) => Errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public void Clear(params string[] kinds)
    {
        foreach (var k in kinds) Of(k).Clear();
    }
}
