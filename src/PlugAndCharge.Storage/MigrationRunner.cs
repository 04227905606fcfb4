using Dapper;
using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// Applies the embedded SQL migrations in order, each in its own transaction, under a session advisory lock so two
/// instances starting at once do not race: the second waits, then finds nothing left to do.
/// </summary>
public static class MigrationRunner
{
    private const long LockKey = 0x504E_435F_4D49_47; // "PNC_MIG"

    public static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource db, CancellationToken ct = default)
    {
        var asm = typeof(MigrationRunner).Assembly;
        var migrations = asm.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var applied = new List<string>();
        await using var conn = await db.ConnectAsync(ct);
        // A migration may rewrite a large table, and a second instance waits here for the first to finish: neither is
        // bound by the service's statement and lock timeouts (StorageDataSource). Reset below, as the pool keeps sessions.
        await conn.ExecuteAsync("set statement_timeout = 0; set lock_timeout = 0");
        await conn.ExecuteAsync("select pg_advisory_lock(@k)", new { k = LockKey });
        try
        {
            await conn.ExecuteAsync("create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())");
            var done = (await conn.QueryAsync<string>("select name from schema_migrations")).ToHashSet(StringComparer.Ordinal);
            foreach (var resource in migrations)
            {
                var name = resource["migrations/".Length..];
                if (done.Contains(name)) continue;
                using var reader = new StreamReader(asm.GetManifestResourceStream(resource)!);
                var sql = await reader.ReadToEndAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await conn.ExecuteAsync(sql, transaction: tx);
                await conn.ExecuteAsync("insert into schema_migrations(name) values (@name)", new { name }, tx);
                await tx.CommitAsync(ct);
                applied.Add(name);
            }
        }
        finally
        {
            await conn.ExecuteAsync("select pg_advisory_unlock(@k)", new { k = LockKey });
            await conn.ExecuteAsync("reset statement_timeout; reset lock_timeout");
        }
        return applied;
    }
}
