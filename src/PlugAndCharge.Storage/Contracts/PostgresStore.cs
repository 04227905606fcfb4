using Npgsql;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>
/// What the contract-side stores share: the data source, a transaction with <see cref="PostgresFaults"/>' retry of work
/// that certainly did not commit, the audit entry appended at COMMIT (<see cref="PostgresAuditWriter"/>), and the
/// fail-fast of a silent database (<see cref="DatabaseReachability"/>) for group-commit waits.
/// </summary>
public abstract class PostgresStore
{
    private readonly Polly.ResiliencePipeline _retry;

    protected PostgresStore(NpgsqlDataSource db, TimeProvider? clock)
    {
        Db = db;
        Clock = clock ?? TimeProvider.System;
        _retry = PostgresFaults.Retry(db);
    }

    protected NpgsqlDataSource Db { get; }
    protected TimeProvider Clock { get; }

    protected Task InTransactionAsync(Func<NpgsqlConnection, NpgsqlTransaction, Task> work, CancellationToken ct) =>
        PostgresFaults.InTransactionAsync(Db, _retry, Clock, work, ct);

    protected static Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction tx, params AuditEvent[] events)
    {
        PostgresAuditWriter.AppendAtCommit(tx, events);
        return Task.CompletedTask;
    }

    /// <summary>For a <see cref="GroupCommitQueue{T, TResult}"/>: its waiters give up at once while PostgreSQL is silent.</summary>
    protected (CancellationToken, Func<Exception>) AbandonWhenSilent() => (DatabaseReachability.SilenceOf(Db), () => DatabaseReachability.Silent(Db));

    protected static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));
    protected static DateTimeOffset? Utc(DateTime? d) => d is { } x ? Utc(x) : null;
}

/// <summary>
/// The four contract stores over one data source, as composition passes them on. Disposing ends the contract store's
/// group commit.
/// </summary>
public sealed class PostgresContractStores(NpgsqlDataSource db, TimeProvider? clock = null) : IAsyncDisposable
{
    public PostgresRootCertificateStore Roots { get; } = new(db, clock);
    public PostgresProvisioningCertificateStore Vehicles { get; } = new(db, clock);
    public PostgresContractStore Contracts { get; } = new(db, clock);
    public PostgresWebhookStore Webhooks { get; } = new(db, clock);

    public ValueTask DisposeAsync() => Contracts.DisposeAsync();
}
