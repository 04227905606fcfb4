using Dapper;
using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage;

/// <summary>
/// Appends audit entries inside the caller's transaction. A transaction-scoped advisory lock orders appenders across
/// instances, so each entry links to the true predecessor; the lock is released at commit.
/// </summary>
internal static class PostgresAuditWriter
{
    private const long LockKey = 0x504E_435F_4155_44; // "PNC_AUD"

    public static async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await conn.ExecuteAsync("select pg_advisory_xact_lock(@k)", new { k = LockKey }, tx);
        var head = await conn.QuerySingleOrDefaultAsync<(long Seq, byte[] Hash)?>("select seq, hash from audit_log order by seq desc limit 1", transaction: tx);
        var seq = head?.Seq ?? 0;
        var prev = head?.Hash ?? AuditChain.Genesis;
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
        // One statement for the whole batch: a group commit of hundreds of issuances costs one round trip here.
        await conn.ExecuteAsync(
            "insert into audit_log(seq, at, actor, action, subject, details, prev_hash, hash) " +
            "select s, @at, a, ac, su, d, p, h from unnest(@seqs, @actors, @actions, @subjects, @detailTexts, @prevs, @hashes) as r(s, a, ac, su, d, p, h)",
            new { at, seqs, actors, actions, subjects, detailTexts, prevs, hashes }, tx);
    }
}
