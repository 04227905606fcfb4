using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// The data source the stores run on. Unless the connection string says otherwise, statements the service repeats are
/// prepared once per connection (parsing and planning were about a quarter of PostgreSQL's CPU on the installation path),
/// and pooled connections are not reset on return: the stores leave no session state behind (no SET, LISTEN or temp
/// tables; open transactions are still rolled back), and a reset would also discard the prepared statements.
/// </summary>
public static class StorageDataSource
{
    public static NpgsqlDataSource Create(string connectionString)
    {
        // NpgsqlConnectionStringBuilder answers ContainsKey for every known keyword, so look at what was written.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("MaxAutoPrepare")) settings.MaxAutoPrepare = 64;
        if (!given.Contains("AutoPrepareMinUsages")) settings.AutoPrepareMinUsages = 2;
        if (!given.Contains("NoResetOnClose")) settings.NoResetOnClose = true;
        // Several hosts (a primary and its standbys, Target Session Attributes=primary): Npgsql remembers a host it found
        // down or in recovery for Host Recheck Seconds (default 10), so a standby promoted meanwhile would be ignored
        // that long; re-probe after 1 s instead (docs/operator-guide.md, failover to a standby).
        if (!given.Contains("HostRecheckSeconds") && settings.Host?.Contains(',', StringComparison.Ordinal) == true) settings.HostRecheckSeconds = 1;
        return NpgsqlDataSource.Create(settings);
    }
}
