using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage;

/// <summary>
/// Appends audit entries inside the caller's transaction, or in a transaction of its own around the caller's statements
/// (<see cref="CommitAsync"/>). A transaction-scoped advisory lock orders appenders across instances, so each entry
/// links to the true predecessor; the lock is released at commit.
/// </summary>
internal static class PostgresAuditWriter
{
    private const long LockKey = 0x504E_435F_4155_44; // "PNC_AUD"

    /// <summary>The last entry of the chain, which the next one links to.</summary>
    public sealed record Head(long Seq, byte[] Hash);

    public static async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await using var batch = new NpgsqlBatch(conn, tx);
        var head = await ExecuteThenLockAsync(batch);
        await InsertAsync(conn, tx, head, events, clock);
    }

    /// <summary>
    /// Runs the caller's statements in <paramref name="batch"/>, then takes the lock and reads the head, all in one round
    /// trip. The lock comes last so it is held only for the insert and the commit; the head read still sees every entry
    /// committed before the lock was granted, because each statement of a batch takes its own snapshot (read committed).
    /// Row counts of the caller's statements are in their <see cref="NpgsqlBatchCommand.RecordsAffected"/> afterwards.
    /// </summary>
    public static async Task<Head> ExecuteThenLockAsync(NpgsqlBatch batch)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"select pg_advisory_xact_lock({LockKey})"));
        var read = new NpgsqlBatchCommand("select seq, hash from audit_log order by seq desc limit 1");
        batch.BatchCommands.Add(read);
        Head? head = null;
        await using (var r = await batch.ExecuteReaderAsync())
        {
            do
            {
                if (r.FieldCount == 2 && r.GetName(0) == "seq" && await r.ReadAsync()) head = new Head(r.GetInt64(0), (byte[])r[1]);
            }
            while (await r.NextResultAsync());
        }
        return head ?? new Head(0, AuditChain.Genesis);
    }

    /// <summary>Links the events to <paramref name="head"/> and inserts them with one statement (a group commit of hundreds costs one round trip).</summary>
    public static async Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Head head, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await using var batch = new NpgsqlBatch(conn, tx) { BatchCommands = { Insert(head, events, clock) } };
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// An audited group commit in two round trips, for the hot paths: BEGIN, the caller's statements, the lock and the head
    /// read in the first; after <paramref name="check"/> (if any) has looked at the statements' row counts, the audit entries and
    /// COMMIT in the second. (An NpgsqlTransaction spends a third round trip on COMMIT alone.) A failing statement stops
    /// its batch, so COMMIT never runs after an error; whatever fails, the transaction is rolled back before the
    /// connection goes back to the pool.
    /// </summary>
    public static async Task CommitAsync(NpgsqlDataSource db, IReadOnlyList<NpgsqlBatchCommand> statements, Action? check, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await using var conn = await db.OpenConnectionAsync();
        try
        {
            await using var first = new NpgsqlBatch(conn) { BatchCommands = { new NpgsqlBatchCommand("begin") } };
            foreach (var statement in statements) first.BatchCommands.Add(statement);
            var head = await ExecuteThenLockAsync(first);
            check?.Invoke();
            await using var second = new NpgsqlBatch(conn) { BatchCommands = { Insert(head, events, clock), new NpgsqlBatchCommand("commit") } };
            await second.ExecuteNonQueryAsync();
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

    private static NpgsqlBatchCommand Insert(Head head, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        var (seq, prev) = (head.Seq, head.Hash);
        var at = AuditChain.Normalize(clock.GetUtcNow());
        var n = events.Count;
        var (seqs, actors, actions, subjects, detailTexts, prevs, hashes) = (new long[n], new string[n], new string[n], new string[n], new string[n], new byte[n][], new byte[n][]);
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            seq++;
            var details = AuditChain.SerializeDetails(e.Details);
            var hash = AuditChain.ComputeHash(prev, seq, at, e.Actor, e.Action, e.Subject, details);
            (seqs[i], actors[i], actions[i], subjects[i], detailTexts[i], prevs[i], hashes[i]) = (seq, e.Actor, e.Action, e.Subject, details, prev, hash);
            prev = hash;
        }
        return new NpgsqlBatchCommand(
            "insert into audit_log(seq, at, actor, action, subject, details, prev_hash, hash) " +
            "select s, $1, a, ac, su, d, p, h from unnest($2, $3, $4, $5, $6, $7, $8) as r(s, a, ac, su, d, p, h)")
        {
            Parameters = { new() { Value = at.UtcDateTime }, new() { Value = seqs }, new() { Value = actors }, new() { Value = actions }, new() { Value = subjects },
                new() { Value = detailTexts }, new() { Value = prevs }, new() { Value = hashes } },
        };
    }
}
