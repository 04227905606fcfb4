using Npgsql;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;

namespace PlugAndCharge.Storage;

/// <summary>Opens the configured database, applies migrations and composes the CA services over it.</summary>
public static class PkiDatabase
{
    public static async Task<(NpgsqlDataSource Db, PostgresPkiStore Store)> OpenAsync(string connectionString, CancellationToken ct = default)
    {
        var db = StorageDataSource.Create(connectionString);
        await MigrationRunner.ApplyAsync(db, ct);
        return (db, new PostgresPkiStore(db));
    }

    public static CertificateAuthorityServices Compose(PostgresPkiStore store, KeyProviderRegistry keys, PkiOptions options, ProfileCatalog? profiles = null)
        => new(store, store, store, keys, profiles, options);
}
