namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// A pre-signed answer for one CertID with what HTTP caching needs (RFC 5019 §6.2): Last-Modified is thisUpdate,
/// Expires is nextUpdate, the ETag a hash of the response. It is re-signed once past <see cref="RefreshAt"/> (half-life).
/// </summary>
public sealed class OcspCachedResponse
{
    public byte[] Der { get; }
    public OcspCertStatus Status { get; }
    public DateTimeOffset ThisUpdate { get; }
    public DateTimeOffset NextUpdate { get; }
    public DateTimeOffset RefreshAt { get; }
    public string ETag { get; }
    public string LastModified { get; }
    public string Expires { get; }
    internal OcspCertQuery Query { get; }
    private int _refreshing;

    internal OcspCachedResponse(byte[] der, OcspCertQuery query, OcspCertStatus status, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate)
    {
        Der = der; Query = query; Status = status; ThisUpdate = thisUpdate; NextUpdate = nextUpdate;
        RefreshAt = thisUpdate + (nextUpdate - thisUpdate) / 2;
        ETag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(der).AsSpan(0, 16)) + "\"";
        LastModified = thisUpdate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Expires = nextUpdate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Seconds an HTTP cache may keep this answer: until it is re-signed, never past nextUpdate (RFC 5019 §6.2).</summary>
    public int MaxAgeSeconds(DateTimeOffset now)
    {
        var until = now < RefreshAt ? RefreshAt : NextUpdate;
        return (int)Math.Clamp((until - now).TotalSeconds, 0, int.MaxValue);
    }

    /// <summary>True for exactly one caller once the half-life has passed, so one refresh runs.</summary>
    internal bool ClaimRefresh(DateTimeOffset now) => now >= RefreshAt && Interlocked.Exchange(ref _refreshing, 1) == 0;
}
