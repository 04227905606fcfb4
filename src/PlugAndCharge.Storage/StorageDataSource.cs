using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// The data source the stores run on. Unless the connection string says otherwise, statements the service repeats are
/// prepared once per connection (parsing and planning were about a quarter of PostgreSQL's CPU on the installation path),
/// and pooled connections are not reset on return: the stores leave no session state behind (no SET, LISTEN or temp
/// tables; open transactions are still rolled back), and a reset would also discard the prepared statements.
/// <para>
/// Every connection also carries timeouts, so a fault costs the requests in flight instead of hanging them (issue 22):
/// the server ends a statement after <see cref="StatementTimeout"/>, a lock wait after <see cref="LockTimeout"/> and a
/// transaction left idle after <see cref="IdleInTransactionTimeout"/>; a connection attempt gives up after 3 s (Npgsql also
/// bounds its synchronous cancel requests by it), a command
/// after 15 s on the client's side (later than the server's own timeout, whose error is clearer), and TCP keepalives find
/// a peer that vanished. A setting written in the connection string (Timeout, Command Timeout, Tcp Keepalive, or
/// <c>Options=-c lock_timeout=...</c>) wins over these defaults.
/// </para>
/// </summary>
public static class StorageDataSource
{
    public const int StatementTimeout = 10_000, LockTimeout = 5_000, IdleInTransactionTimeout = 30_000; // milliseconds

    public static NpgsqlDataSource Create(string connectionString)
    {
        // NpgsqlConnectionStringBuilder answers ContainsKey for every known keyword, so look at what was written.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("MaxAutoPrepare")) settings.MaxAutoPrepare = 64;
        if (!given.Contains("AutoPrepareMinUsages")) settings.AutoPrepareMinUsages = 2;
        if (!given.Contains("NoResetOnClose")) settings.NoResetOnClose = true;
        if (!given.Contains("Timeout")) settings.Timeout = 3;
        if (!given.Contains("CommandTimeout")) settings.CommandTimeout = 15;
        // A cancelled or timed-out command breaks its connection at once instead of first sending PostgreSQL a cancel
        // request and waiting up to 2 s for its answer: that wait blocks the cancelling thread, and with a database that
        // stopped answering, every command cancelled at its timeout blocked a thread-pool thread until the whole service
        // (health checks included) stalled (the fault suite's partition row). The statement itself ends by
        // statement_timeout on the server, and the broken connection rolls its transaction back.
        if (!given.Contains("CancellationTimeout")) settings.CancellationTimeout = -1;
        if (!given.Contains("TcpKeepalive") && !given.Contains("TcpKeepAliveTime") && !given.Contains("Keepalive"))
        {
            settings.TcpKeepAlive = true;
            settings.TcpKeepAliveTime = 30;
            settings.TcpKeepAliveInterval = 5;
        }
        var options = settings.Options ?? "";
        foreach (var (name, ms) in new[] { ("statement_timeout", StatementTimeout), ("lock_timeout", LockTimeout), ("idle_in_transaction_session_timeout", IdleInTransactionTimeout) })
            if (!options.Contains(name, StringComparison.OrdinalIgnoreCase)) options = $"{options} -c {name}={ms}".Trim();
        settings.Options = options;
        // Several hosts (a primary and its standbys, Target Session Attributes=primary): Npgsql remembers a host it found
        // down or in recovery for Host Recheck Seconds (default 10), so a standby promoted meanwhile would be ignored
        // that long; re-probe after 1 s instead (docs/operator-guide.md, failover to a standby).
        if (!given.Contains("HostRecheckSeconds") && settings.Host?.Contains(',', StringComparison.Ordinal) == true) settings.HostRecheckSeconds = 1;
        var db = NpgsqlDataSource.Create(settings);
        ConnectionStrings.AddOrUpdate(db, settings.ConnectionString);
        return db;
    }

    // The full connection string (the data source's own drops the password), for the reachability probe.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NpgsqlDataSource, string> ConnectionStrings = new();

    internal static string ConnectionStringOf(NpgsqlDataSource db) =>
        ConnectionStrings.TryGetValue(db, out var s) ? s : db.ConnectionString;
}
