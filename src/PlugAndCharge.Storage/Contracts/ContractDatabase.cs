using Npgsql;
using PlugAndCharge.Contracts;
using PlugAndCharge.Pki;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>Opens the configured database (migrations applied) and composes contract provisioning over it.</summary>
public static class ContractDatabase
{
    /// <summary>The PKI and contract stores over one data source; migrations (0003_contracts among them) applied.</summary>
    public static async Task<(NpgsqlDataSource Db, PostgresPkiStore Pki, PostgresContractStores Contracts)> OpenAsync(string connectionString, TimeProvider? clock = null, CancellationToken ct = default)
    {
        var db = StorageDataSource.Create(connectionString);
        await MigrationRunner.ApplyAsync(db, ct);
        return (db, new PostgresPkiStore(db, clock), new PostgresContractStores(db, clock));
    }

    public static ContractServices Compose(CertificateAuthorityServices ca, PostgresContractStores stores, ContractOptions options, TimeProvider? clock = null) =>
        new(ca, stores.Roots, stores.Vehicles, stores.Contracts, stores.Webhooks, options, clock);
}
