using Dapper;
using Npgsql;
using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>Tokens eMSPs pushed to the hub, on PostgreSQL.</summary>
public sealed class PostgresOcpiTokenStore(NpgsqlDataSource db) : IOcpiTokenStore
{
    private sealed record Row(string country_code, string party_code, string uid, string type, string? whitelist, DateTime last_updated, string body, long total)
    {
        public StoredToken ToToken() => new(country_code, party_code, uid, type, whitelist, new DateTimeOffset(DateTime.SpecifyKind(last_updated, DateTimeKind.Utc)), body);
    }

    private const string Columns = "country_code, party_code, uid, type, whitelist, last_updated, body::text as body";

    public async Task<bool> PutAsync(StoredToken t, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        // xmax = 0 only for a freshly inserted row: tells insert from update in one statement.
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("""
            insert into ocpi_tokens (country_code, party_code, uid, type, whitelist, last_updated, body)
            values (@CountryCode, @PartyId, @Uid, @Type, @Whitelist, @LastUpdated, @Json::jsonb)
            on conflict (country_code, party_code, uid, type) do update
                set whitelist = excluded.whitelist, last_updated = excluded.last_updated, body = excluded.body
            returning (xmax = 0)
            """, new { t.CountryCode, t.PartyId, t.Uid, t.Type, t.Whitelist, t.LastUpdated, t.Json }, cancellationToken: ct));
    }

    public async Task<StoredToken?> GetAsync(string countryCode, string partyId, string uid, string type, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns}, 0::bigint as total from ocpi_tokens where country_code = upper(@countryCode) and party_code = upper(@partyId) and uid = @uid and type = upper(@type)",
            new { countryCode, partyId, uid, type }, cancellationToken: ct)))?.ToToken();
    }

    public async Task<StoredToken?> FindAsync(string uid, string type, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns}, 0::bigint as total from ocpi_tokens where uid = @uid and type = upper(@type) order by last_updated desc limit 1",
            new { uid, type }, cancellationToken: ct)))?.ToToken();
    }

    public async Task<TokenPage> ListAsync(TokenQuery q, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition($"""
            select {Columns}, count(*) over () as total from ocpi_tokens
            where (@DateFrom::timestamptz is null or last_updated >= @DateFrom)
              and (@DateTo::timestamptz is null or last_updated < @DateTo)
              and (@Owner::text is null or country_code = upper(@Owner))
              and (@OwnerParty::text is null or party_code = upper(@OwnerParty))
              and (@Owners::text[] is null or country_code || '*' || party_code = any(@Owners))
            order by last_updated, country_code, party_code, uid, type
            offset @Offset limit @Limit
            """, new { q.DateFrom, q.DateTo, Owner = q.OwnerCountryCode, OwnerParty = q.OwnerPartyId, Owners = OwnerKeys(q), q.Offset, q.Limit }, cancellationToken: ct))).ToList();
        var total = rows.Count > 0 ? (int)rows[0].total : await conn.ExecuteScalarAsync<int>(new CommandDefinition("""
            select count(*)::int from ocpi_tokens
            where (@DateFrom::timestamptz is null or last_updated >= @DateFrom)
              and (@DateTo::timestamptz is null or last_updated < @DateTo)
              and (@Owner::text is null or country_code = upper(@Owner))
              and (@OwnerParty::text is null or party_code = upper(@OwnerParty))
              and (@Owners::text[] is null or country_code || '*' || party_code = any(@Owners))
            """, new { q.DateFrom, q.DateTo, Owner = q.OwnerCountryCode, OwnerParty = q.OwnerPartyId, Owners = OwnerKeys(q) }, cancellationToken: ct));
        return new TokenPage(rows.Select(r => r.ToToken()).ToList(), total);
    }

    private static string[]? OwnerKeys(TokenQuery q) => q.Owners?.Select(o => $"{o.CountryCode.ToUpperInvariant()}*{o.PartyId.ToUpperInvariant()}").ToArray();
}
