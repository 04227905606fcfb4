using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage;

/// <summary>
/// Appends audit entries inside the caller's transaction, or in a transaction of its own around the caller's statements
/// (<see cref="CommitAsync"/>). PostgreSQL links the entries itself (audit_append, migration 0013): one statement takes
/// the chain's transaction-scoped advisory lock, reads the head and inserts the linked entries, so each entry links to
/// the true predecessor across instances, and the lock is never held while the application computes or waits; it is
/// released at commit.
/// </summary>
internal static class PostgresAuditWriter
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NpgsqlTransaction, List<AuditEvent>> AtCommit = new();

    /// <summary>
    /// Adds audit entries to <paramref name="tx"/>: they are appended by <see cref="CommitAsync(NpgsqlTransaction, TimeProvider, CancellationToken)"/>,
    /// in the round trip of the COMMIT, so the chain's lock is held only while PostgreSQL appends and commits. A transaction
    /// that is rolled back, or fails before its commit, appends nothing.
    /// </summary>
    public static void AppendAtCommit(NpgsqlTransaction tx, IReadOnlyList<AuditEvent> events) => AtCommit.GetOrCreateValue(tx).AddRange(events);

    /// <summary>
    /// Commits <paramref name="tx"/> with the audit entries added to it, in one round trip; a connection failure on the way
    /// is marked as an unknown outcome (<see cref="PostgresFaults.IsCommitOutcomeUnknown"/>).
    /// </summary>
    public static async Task CommitAsync(NpgsqlTransaction tx, TimeProvider clock, CancellationToken ct)
    {
        try
        {
            if (AtCommit.TryGetValue(tx, out var events) && events.Count > 0)
            {
                AtCommit.Remove(tx);
                // A COMMIT sent as SQL ends the NpgsqlTransaction too: Npgsql follows the server's transaction status.
                await using var batch = new NpgsqlBatch(tx.Connection!, tx) { BatchCommands = { Append(events, clock), new NpgsqlBatchCommand("commit") } };
                await batch.ExecuteNonQueryAsync(ct);
            }
            else
            {
                await tx.CommitAsync(ct);
            }
        }
        catch (Exception e) when (PostgresFaults.IsUnavailable(e) && e is not PostgresException { SqlState: "40001" or "40P01" or "55P03" or "57014" })
        {
            PostgresFaults.MarkCommitSent(e);
            throw;
        }
    }

    /// <summary>
    /// An audited group commit for the hot paths. Without <paramref name="check"/>: BEGIN, the caller's statements, the
    /// audit entries and COMMIT in one round trip. With it: BEGIN and the caller's statements first; after the check has
    /// looked at the statements' row counts, the audit entries and COMMIT in a second round trip. Either way the chain's
    /// lock is taken by the batch that commits, so it is held only while PostgreSQL works. A failing statement stops its
    /// batch, so COMMIT never runs after an error; whatever fails, the transaction is rolled back before the connection
    /// goes back to the pool.
    /// </summary>
    public static async Task CommitAsync(NpgsqlDataSource db, IReadOnlyList<NpgsqlBatchCommand> statements, Action? check, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await using var conn = await db.ConnectAsync();
        try
        {
            await using var first = new NpgsqlBatch(conn) { BatchCommands = { new NpgsqlBatchCommand("begin") } };
            foreach (var statement in statements) first.BatchCommands.Add(statement);
            if (check != null)
            {
                await first.ExecuteNonQueryAsync();
                check();
                first.BatchCommands.Clear();
            }
            first.BatchCommands.Add(Append(events, clock));
            first.BatchCommands.Add(new NpgsqlBatchCommand("commit"));
            try
            {
                await first.ExecuteNonQueryAsync();
            }
            catch (Exception e) when (PostgresFaults.IsUnavailable(e) && e is not PostgresException { SqlState: "40001" or "40P01" or "55P03" or "57014" })
            {
                PostgresFaults.MarkCommitSent(e); // the connection failed with COMMIT in the batch
                throw;
            }
        }
        catch (Exception)
        {
            try
            {
                await using var rollback = new NpgsqlCommand("rollback", conn);
                await rollback.ExecuteNonQueryAsync();
            }
            catch (Exception) { } // A broken connection is discarded by the pool, and its transaction with it.
            throw;
        }
    }

    private static NpgsqlBatchCommand Append(IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        var at = AuditChain.Normalize(clock.GetUtcNow());
        return new NpgsqlBatchCommand("select audit_append($1, $2, $3, $4, $5)")
        {
            Parameters = { new() { Value = at.UtcDateTime }, new() { Value = events.Select(e => e.Actor).ToArray() },
                new() { Value = events.Select(e => e.Action).ToArray() }, new() { Value = events.Select(e => e.Subject).ToArray() },
                new() { Value = events.Select(e => AuditChain.SerializeDetails(e.Details)).ToArray() } },
        };
    }
}
