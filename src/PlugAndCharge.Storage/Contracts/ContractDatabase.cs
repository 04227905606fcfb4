using Npgsql;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>Opens the configured database with migrations applied, and the PKI and contract stores over it.</summary>
public static class ContractDatabase
{
    /// <summary>The PKI and contract stores over one data source; migrations (0003_contracts among them) applied.</summary>
    public static async Task<(NpgsqlDataSource Db, PostgresPkiStore Pki, PostgresContractStores Contracts)> OpenAsync(string connectionString, TimeProvider? clock = null, CancellationToken ct = default)
    {
        var db = StorageDataSource.Create(connectionString);
        await MigrationRunner.ApplyAsync(db, ct);
        return (db, new PostgresPkiStore(db, clock), new PostgresContractStores(db, clock));
    }
}
