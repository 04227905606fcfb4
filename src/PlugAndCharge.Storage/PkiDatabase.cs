using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>Opens the configured database with migrations applied, and the PKI store over it.</summary>
public static class PkiDatabase
{
    public static async Task<(NpgsqlDataSource Db, PostgresPkiStore Store)> OpenAsync(string connectionString, CancellationToken ct = default)
    {
        var db = StorageDataSource.Create(connectionString);
        await MigrationRunner.ApplyAsync(db, ct);
        return (db, new PostgresPkiStore(db));
    }
}
