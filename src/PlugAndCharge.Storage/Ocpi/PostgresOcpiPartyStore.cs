using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>
/// The hub's parties on PostgreSQL: a party, its roles and its provider prefixes are written in one transaction. The
/// party's token B (the hub needs it in clear to call the party) is stored encrypted under the data-at-rest key
/// (<see cref="ContractKeyProtector"/>, bound to the party), as "v1:" + base64; a value an earlier version wrote in
/// clear is not used (the party registers again). Tokens the parties present are stored only as SHA-256 hashes. An
/// update succeeds only on the row version it read (optimistic concurrency across instances).
/// </summary>
public sealed class PostgresOcpiPartyStore(NpgsqlDataSource db, byte[] dataAtRestKey) : IOcpiPartyStore
{
    private const string Encrypted = "v1:";
    private readonly ContractKeyProtector _secrets = new(dataAtRestKey);

    private string? ProtectToken(string? token, string partyId) =>
        token == null ? null : Encrypted + Convert.ToBase64String(_secrets.Protect(Encoding.UTF8.GetBytes(token), "ocpi-token-b:" + partyId));

    private string? UnprotectToken(string? stored, string partyId) =>
        stored == null || !stored.StartsWith(Encrypted, StringComparison.Ordinal) ? null
            : Encoding.UTF8.GetString(_secrets.Unprotect(Convert.FromBase64String(stored[Encrypted.Length..]), "ocpi-token-b:" + partyId));

    private sealed record PartyRow(string id, string name, string status, string? version, string? versions_url, string? outgoing_token, string endpoints,
        string? incoming_token_sha256, string incoming_token_kind, int? timeout_ms, DateTime updated_at, DateTime? last_seen_at, long row_version);

    private sealed record RoleRow(string party_id, string role, string country_code, string party_code, string? business_name);

    private sealed record PrefixRow(string party_id, string prefix);

    private sealed record EndpointJson(string Identifier, string Role, string Url);

    public async Task<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var parties = await conn.QueryAsync<PartyRow>(new CommandDefinition(
            "select id, name, status, version, versions_url, outgoing_token, endpoints::text as endpoints, incoming_token_sha256, incoming_token_kind, timeout_ms, updated_at, last_seen_at, row_version from ocpi_parties order by id", cancellationToken: ct));
        var roles = (await conn.QueryAsync<RoleRow>(new CommandDefinition(
            "select party_id, role, country_code, party_code, business_name from ocpi_party_roles order by party_id, position", cancellationToken: ct))).ToLookup(r => r.party_id);
        var prefixes = (await conn.QueryAsync<PrefixRow>(new CommandDefinition(
            "select party_id, prefix from ocpi_provider_prefixes order by prefix", cancellationToken: ct))).ToLookup(r => r.party_id);
        return parties.Select(p => new PartyRecord
        {
            Id = p.id, Name = p.name, Status = Enum.Parse<PartyStatus>(p.status), Version = p.version, VersionsUrl = p.versions_url, OutgoingToken = UnprotectToken(p.outgoing_token, p.id),
            Endpoints = (JsonSerializer.Deserialize<List<EndpointJson>>(p.endpoints) ?? []).Select(e => new PartyEndpoint(e.Identifier, e.Role, e.Url)).ToList(),
            IncomingTokenHash = p.incoming_token_sha256, IncomingTokenKind = Enum.Parse<CredentialsTokenKind>(p.incoming_token_kind),
            Timeout = p.timeout_ms is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            UpdatedAt = Utc(p.updated_at), LastSeenAt = p.last_seen_at is { } seen ? Utc(seen) : null, RowVersion = p.row_version,
            Roles = roles[p.id].Select(r => new PartyRole(r.role, r.country_code, r.party_code, r.business_name)).ToList(),
            ProviderPrefixes = prefixes[p.id].Select(x => x.prefix).ToList(),
        }).ToList();
    }

    public Task CreateAsync(PartyRecord party, CancellationToken ct = default) => WriteAsync(party, create: true, ct);

    public Task UpdateAsync(PartyRecord party, CancellationToken ct = default) => WriteAsync(party, create: false, ct);

    private async Task WriteAsync(PartyRecord p, bool create, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = new
        {
            p.Id, p.Name, Status = p.Status.ToString(), p.Version, p.VersionsUrl, OutgoingToken = ProtectToken(p.OutgoingToken, p.Id),
            Endpoints = JsonSerializer.Serialize(p.Endpoints.Select(e => new EndpointJson(e.Identifier, e.Role, e.Url)).ToList()),
            p.IncomingTokenHash, Kind = p.IncomingTokenKind.ToString(), TimeoutMs = p.Timeout is { } t ? (int?)t.TotalMilliseconds : null,
            p.UpdatedAt, p.LastSeenAt, p.RowVersion,
        };
        try
        {
            if (create)
            {
                await conn.ExecuteAsync(new CommandDefinition("""
                    insert into ocpi_parties (id, name, status, version, versions_url, outgoing_token, endpoints, incoming_token_sha256, incoming_token_kind, timeout_ms, updated_at, last_seen_at)
                    values (@Id, @Name, @Status, @Version, @VersionsUrl, @OutgoingToken, @Endpoints::jsonb, @IncomingTokenHash, @Kind, @TimeoutMs, @UpdatedAt, @LastSeenAt)
                    """, row, tx, cancellationToken: ct));
            }
            else
            {
                var n = await conn.ExecuteAsync(new CommandDefinition("""
                    update ocpi_parties set name = @Name, status = @Status, version = @Version, versions_url = @VersionsUrl, outgoing_token = @OutgoingToken,
                        endpoints = @Endpoints::jsonb, incoming_token_sha256 = @IncomingTokenHash, incoming_token_kind = @Kind, timeout_ms = @TimeoutMs,
                        updated_at = @UpdatedAt, last_seen_at = @LastSeenAt, row_version = row_version + 1
                    where id = @Id and row_version = @RowVersion
                    """, row, tx, cancellationToken: ct));
                if (n == 0)
                {
                    var exists = await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select exists(select 1 from ocpi_parties where id = @Id)", new { p.Id }, tx, cancellationToken: ct));
                    throw exists ? new OcpiConcurrencyException($"Party '{p.Id}' changed since it was read.") : new KeyNotFoundException($"Party '{p.Id}' does not exist.");
                }
                await conn.ExecuteAsync(new CommandDefinition("delete from ocpi_party_roles where party_id = @Id; delete from ocpi_provider_prefixes where party_id = @Id",
                    new { p.Id }, tx, cancellationToken: ct));
            }
            var position = 0;
            foreach (var r in p.Roles)
                await conn.ExecuteAsync(new CommandDefinition(
                    "insert into ocpi_party_roles (party_id, role, country_code, party_code, business_name, position) values (@Id, @Role, @CountryCode, @PartyId, @BusinessName, @Position)",
                    new { p.Id, r.Role, r.CountryCode, r.PartyId, r.BusinessName, Position = position++ }, tx, cancellationToken: ct));
            foreach (var prefix in p.ProviderPrefixes)
                await conn.ExecuteAsync(new CommandDefinition("insert into ocpi_provider_prefixes (prefix, party_id) values (@prefix, @Id)",
                    new { prefix, p.Id }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new OcpiConflictException(e.ConstraintName switch
            {
                "ocpi_parties_pkey" => $"Party '{p.Id}' already exists.",
                "ocpi_party_roles_identity" => "One of the roles belongs to another party.",
                "ocpi_provider_prefixes_pkey" => "One of the provider prefixes belongs to another party.",
                _ => "The party conflicts with another party.",
            }, e);
        }
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
