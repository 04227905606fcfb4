namespace PlugAndCharge.Ocpi;

/// <summary>
/// How the hub's in-memory views of shared state (parties, roaming agreements) follow what other instances store: a
/// reader that finds its view older than the interval starts one reload in the background (<see cref="TryClaim"/>, then
/// <see cref="Start"/>) and keeps reading the old view meanwhile; a failed reload (store unavailable) is retried on a
/// later read.
/// </summary>
internal sealed class BackgroundReload(TimeProvider clock)
{
    private int _running;

    /// <summary>True for the one caller that should start the reload: the view is stale and no reload is running.</summary>
    public bool TryClaim(TimeSpan interval, DateTimeOffset loadedAt) =>
        interval > TimeSpan.Zero && clock.GetUtcNow() - loadedAt >= interval && Interlocked.CompareExchange(ref _running, 1, 0) == 0;

    public void Start(Func<CancellationToken, Task> reload) => _ = Task.Run(async () =>
    {
        try { await reload(CancellationToken.None); }
        catch (Exception) { /* keep serving the old view, retry on a later read */ }
        finally { Volatile.Write(ref _running, 0); }
    }, CancellationToken.None);
}
