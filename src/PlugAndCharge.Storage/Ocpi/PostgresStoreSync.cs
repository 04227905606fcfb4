using Dapper;
using Npgsql;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Storage.Contracts;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>Failed pushes of the location store awaiting their retry (migration 0021), claimed by any instance.</summary>
public sealed class PostgresPushRetryStore(NpgsqlDataSource db, TimeProvider? clock = null) : PostgresStore(db, clock), IPushRetryStore
{
    private sealed record Row(long id, string party_id, string kind, string country_code, string party_code, string object_id, int attempts);

    public async Task RecordAsync(string partyId, HubObjectKey key, DateTimeOffset dueAt, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        // A row already waiting keeps its (earlier or later) due time and attempts: the retry sends the object as it is then.
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into ocpi_store_push_retries (party_id, kind, country_code, party_code, object_id, due_at)
            values (@partyId, @Kind, @CountryCode, @PartyId, @Id, @dueAt)
            on conflict (party_id, kind, country_code, party_code, object_id) do nothing
            """, new { partyId, Kind = key.Kind.ToString(), key.CountryCode, key.PartyId, key.Id, dueAt }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<PendingPush>> ClaimDueAsync(int max, TimeSpan hold, CancellationToken ct = default)
    {
        var now = Clock.GetUtcNow();
        await using var conn = await Db.ConnectAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition("""
            update ocpi_store_push_retries set claimed_until = @until
            where id in (select id from ocpi_store_push_retries
                         where due_at <= @now and (claimed_until is null or claimed_until < @now)
                         order by due_at limit @max for update skip locked)
            returning id, party_id, kind, country_code, party_code, object_id, attempts
            """, new { now, until = now + hold, max }, cancellationToken: ct));
        return rows.Select(r => new PendingPush(r.id, r.party_id,
            new HubObjectKey(Enum.Parse<HubObjectKind>(r.kind), r.country_code, r.party_code, r.object_id), r.attempts)).ToList();
    }

    public async Task CompleteAsync(long id, DateTimeOffset? retryAt, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(retryAt is null
            ? "delete from ocpi_store_push_retries where id = @id"
            : "update ocpi_store_push_retries set attempts = attempts + 1, due_at = @retryAt, claimed_until = null where id = @id",
            new { id, retryAt }, cancellationToken: ct));
    }
}

/// <summary>The incremental pull's last-sync times and the poller's lease (migration 0021).</summary>
public sealed class PostgresPullSyncStore(NpgsqlDataSource db, TimeProvider? clock = null) : PostgresStore(db, clock), IPullSyncStore
{
    public async Task<DateTimeOffset?> LastSyncAsync(string partyId, HubObjectKind kind, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return Utc(await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "select synced_from from ocpi_store_pull_sync where party_id = @partyId and kind = @kind", new { partyId, kind = kind.ToString() }, cancellationToken: ct)));
    }

    public async Task SetLastSyncAsync(string partyId, HubObjectKind kind, DateTimeOffset syncedFrom, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into ocpi_store_pull_sync (party_id, kind, synced_from) values (@partyId, @kind, @syncedFrom)
            on conflict (party_id, kind) do update set synced_from = excluded.synced_from
            """, new { partyId, kind = kind.ToString(), syncedFrom }, cancellationToken: ct));
    }

    public async Task<bool> TryLeaseAsync(string holder, TimeSpan duration, CancellationToken ct = default)
    {
        var now = Clock.GetUtcNow();
        await using var conn = await Db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(
            "update ocpi_store_poll_lease set holder = @holder, until = @until where id = 1 and (holder = @holder or until < @now)",
            new { holder, until = now + duration, now }, cancellationToken: ct)) == 1;
    }
}
