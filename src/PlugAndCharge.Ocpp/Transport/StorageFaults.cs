namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// Which failures mean the database is out of reach for a moment (down, restarting, timed out, refusing to wait), so a
/// station gets the protocol's own "try again" answer instead of a bare internal error: a 503 on its WebSocket upgrade,
/// a CALLERROR saying the service is temporarily unavailable, a signed FAILED Get15118EVCertificate answer. The host
/// passes its storage's classification (PostgreSQL: PlugAndCharge.Storage.PostgresFaults.IsUnavailable); without one,
/// any <see cref="System.Data.Common.DbException"/> or <see cref="TimeoutException"/> counts.
/// </summary>
public sealed class StorageFaults(Func<Exception, bool> isUnavailable)
{
    public StorageFaults() : this(e => e is System.Data.Common.DbException or TimeoutException || e.InnerException is System.Data.Common.DbException or TimeoutException) { }

    /// <summary>The reason code stations see (OCPP StatusInfo.reasonCode: at most 20 characters).</summary>
    public const string ReasonCode = "DatabaseUnavailable";

    /// <summary>The CALLERROR description of a call the database could not serve.</summary>
    public const string Description = "The service is temporarily unavailable (its database did not answer); retry shortly.";

    public bool IsUnavailable(Exception e) => isUnavailable(e);
}
