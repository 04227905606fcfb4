using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace PlugAndCharge.Ocpp.Stations;

/// <summary>At most <see cref="Permits"/> in <see cref="Window"/>, refilled evenly: one permit every Window / Permits.</summary>
public sealed record RateBudget(int Permits, TimeSpan Window)
{
    public TimeSpan RefillInterval => Window / Permits;

    internal PartitionedRateLimiter<string> CreateLimiter() => PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Permits, TokensPerPeriod = 1, ReplenishmentPeriod = RefillInterval, QueueLimit = 0, AutoReplenishment = true,
        }), StringComparer.Ordinal);
}

/// <summary>
/// The station side's budgets (issue 21), kept per instance: failed logins per station and per source address, checked
/// before a password is hashed, so a guesser cannot make us run PBKDF2 at will; SignCertificate and Get15118EVCertificate
/// Update per station, checked before a CSR is read or contract provisioning is asked. With N instances behind a
/// balancer each instance has the whole budget: configure hub budget / N (docs/operator-guide.md §7).
/// </summary>
public sealed class StationThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failedByStation;
    private readonly PartitionedRateLimiter<string> _failedBySource;
    private readonly PartitionedRateLimiter<string> _signing;
    private readonly PartitionedRateLimiter<string> _updates;

    public StationThrottle(OcppOptions options)
    {
        LoginRetryAfter = options.FailedLoginsPerSource.RefillInterval > options.FailedLoginsPerStation.RefillInterval
            ? options.FailedLoginsPerSource.RefillInterval : options.FailedLoginsPerStation.RefillInterval;
        _failedByStation = options.FailedLoginsPerStation.CreateLimiter();
        _failedBySource = options.FailedLoginsPerSource.CreateLimiter();
        _signing = options.SignCertificatesPerStation.CreateLimiter();
        _updates = options.EvCertificateUpdatesPerStation.CreateLimiter();
    }

    /// <summary>When a throttled login may be tried again, at the latest.</summary>
    public TimeSpan LoginRetryAfter { get; }

    /// <summary>
    /// True when both the station and the source have a failed login left; takes nothing (only failures count, so a
    /// CSMS behind one address that reconnects many stations is not throttled for succeeding).
    /// </summary>
    public bool MayTryLogin(string stationId, IPAddress? source) =>
        HasPermit(_failedByStation, stationId) && HasPermit(_failedBySource, SourceKey(source));

    // Not AttemptAcquire(0): a token bucket refills in fractions, and a bucket with 0.1 token left says yes to it.
    private static bool HasPermit(PartitionedRateLimiter<string> limiter, string key) => (limiter.GetStatistics(key)?.CurrentAvailablePermits ?? 1) >= 1;

    public void LoginFailed(string stationId, IPAddress? source)
    {
        _failedByStation.AttemptAcquire(stationId).Dispose();
        _failedBySource.AttemptAcquire(SourceKey(source)).Dispose();
    }

    public bool TrySignCertificate(string stationId)
    {
        using var lease = _signing.AttemptAcquire(stationId);
        return lease.IsAcquired;
    }

    public bool TryEvCertificateUpdate(string stationId)
    {
        using var lease = _updates.AttemptAcquire(stationId);
        return lease.IsAcquired;
    }

    /// <summary>An IPv4 address as it is; an IPv6 address by its /64, which one host usually has whole.</summary>
    internal static string SourceKey(IPAddress? source)
    {
        if (source == null) return "";
        if (source.IsIPv4MappedToIPv6) source = source.MapToIPv4();
        if (source.AddressFamily != AddressFamily.InterNetworkV6) return source.ToString();
        var bytes = source.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose()
    {
        _failedByStation.Dispose();
        _failedBySource.Dispose();
        _signing.Dispose();
        _updates.Dispose();
    }
}
