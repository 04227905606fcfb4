using Dapper;
using Npgsql;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Storage.Contracts;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>
/// The hub's locations and tariffs on PostgreSQL (migration 0021): a row per object with its document as json. Pages
/// by keyset on (last_updated, cpo, id), which the page index serves in the same time wherever the page is; a plain
/// offset (a client not following the hub's Link) still works, at the cost of the rows it skips. The document is kept
/// as json (text, checked on the way in), not jsonb: the hub only stores and serves it whole, and json comes out as it
/// went in, where jsonb's conversion to text doubled the time of a 1,000-location page.
/// </summary>
public sealed class PostgresHubObjectStore(NpgsqlDataSource db, TimeProvider? clock = null) : PostgresStore(db, clock), IHubObjectStore
{
    private sealed record Row(string country_code, string party_code, string id, string version, DateTime last_updated, string body);

    private static string Table(HubObjectKind kind) => kind == HubObjectKind.Location ? "ocpi_locations" : "ocpi_tariffs";

    private static StoredObject ToObject(HubObjectKind kind, Row r) => new(new HubObjectKey(kind, r.country_code, r.party_code, r.id),
        OcpiVersions.TryParse(r.version, out var v) ? v : OcpiVersion.V230, Utc(r.last_updated), r.body);

    private const string Columns = "country_code, party_code, id, version, last_updated, body::text as body";

    private static string[] CpoKeys(IReadOnlyList<RoamingParty> cpos) =>
        cpos.Select(c => c.CountryCode.ToUpperInvariant() + "*" + c.PartyId.ToUpperInvariant()).ToArray();

    public async Task<StoredObject?> GetAsync(HubObjectKey key, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from {Table(key.Kind)} where country_code = @CountryCode and party_code = @PartyId and id = @Id",
            new { key.CountryCode, key.PartyId, key.Id }, cancellationToken: ct));
        return row is null ? null : ToObject(key.Kind, row);
    }

    public async Task<IReadOnlyList<StoredObject>> FindAsync(HubObjectKind kind, string id, IReadOnlyList<RoamingParty> cpos, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from {Table(kind)} where id = @id and cpo = any(@cpos) order by cpo limit 2",
            new { id, cpos = CpoKeys(cpos) }, cancellationToken: ct));
        return rows.Select(r => ToObject(kind, r)).ToList();
    }

    public async Task<StoredObject?> ChangeAsync(HubObjectKey key, Func<StoredObject?, StoredObject?> change, CancellationToken ct = default)
    {
        StoredObject? result = null;
        var table = Table(key.Kind);
        await InTransactionAsync(async (conn, tx) =>
        {
            var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"select {Columns} from {table} where country_code = @CountryCode and party_code = @PartyId and id = @Id for update",
                new { key.CountryCode, key.PartyId, key.Id }, tx, cancellationToken: ct));
            var current = row is null ? null : ToObject(key.Kind, row);
            var next = change(current);
            result = next;
            if (ReferenceEquals(next, current)) return;
            if (next is null)
            {
                await conn.ExecuteAsync(new CommandDefinition($"delete from {table} where country_code = @CountryCode and party_code = @PartyId and id = @Id",
                    new { key.CountryCode, key.PartyId, key.Id }, tx, cancellationToken: ct));
                return;
            }
            await conn.ExecuteAsync(new CommandDefinition($"""
                insert into {table} (country_code, party_code, id, version, last_updated, body)
                values (@CountryCode, @PartyId, @Id, @Version, @LastUpdated, @Json::json)
                on conflict (country_code, party_code, id) do update
                    set version = excluded.version, last_updated = excluded.last_updated, body = excluded.body
                """, new { key.CountryCode, key.PartyId, key.Id, Version = next.Version.ToText(), next.LastUpdated, next.Json }, tx, cancellationToken: ct));
        }, ct);
        return result;
    }

    public async Task<HubObjectPage> ListAsync(HubObjectQuery q, CancellationToken ct = default)
    {
        var table = Table(q.Kind);
        const string filter = """
            cpo = any(@Cpos)
              and (@DateFrom::timestamptz is null or last_updated >= @DateFrom)
              and (@DateTo::timestamptz is null or last_updated < @DateTo)
            """;
        var args = new DynamicParameters(new { Cpos = CpoKeys(q.Cpos), q.DateFrom, q.DateTo, q.Limit, q.Offset });
        string page;
        if (q.After is { } after)
        {
            args.AddDynamicParams(new { AfterTime = after.LastUpdated, AfterCpo = after.CountryCode + "*" + after.PartyId, AfterId = after.Id });
            page = $"select {Columns} from {table} where {filter} and (last_updated, cpo, id) > (@AfterTime, @AfterCpo, @AfterId) order by last_updated, cpo, id limit @Limit";
        }
        else page = $"select {Columns} from {table} where {filter} order by last_updated, cpo, id offset @Offset limit @Limit";
        await using var conn = await Db.ConnectAsync(ct);
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition(page, args, cancellationToken: ct))).ToList();
        // Without a date window the trigger-kept counts per CPO answer X-Total-Count; with one, the rows are counted.
        var count = q.DateFrom is null && q.DateTo is null
            ? "select coalesce(sum(objects), 0)::int from ocpi_store_counts where kind = @Kind and cpo = any(@Cpos)"
            : $"select count(*)::int from {table} where {filter}";
        args.Add("Kind", q.Kind.ToString());
        var total = await conn.ExecuteScalarAsync<int>(new CommandDefinition(count, args, cancellationToken: ct));
        return new HubObjectPage(rows.Select(r => ToObject(q.Kind, r)).ToList(), total);
    }
}
