using Dapper;
using Npgsql;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Participants;

/// <summary>The participant registry on PostgreSQL; each change and its audit entry commit together.</summary>
public sealed class PostgresParticipantStore(NpgsqlDataSource db, TimeProvider? clock = null) : IParticipantStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Polly.ResiliencePipeline _retry = PostgresFaults.Retry(db);

    // A class with setters: Dapper reports text[] as System.Array to constructors, so positional records cannot take it.
    private sealed class ParticipantRow
    {
        public string id { get; set; } = "";
        public string name { get; set; } = "";
        public string role { get; set; } = "";
        public string[] identities { get; set; } = [];
        public string? organization { get; set; }
        public bool disabled { get; set; }
        public DateTime created_at { get; set; }

        public Participant ToModel() => new()
        {
            Id = id, Name = name, Role = Enum.Parse<ParticipantRole>(role), Identities = identities, Organization = organization,
            Disabled = disabled, CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(created_at, DateTimeKind.Utc)),
        };
    }

    private sealed record CredentialRow(string kind, string key, string participant_id, string? issuer_id, string? serial, string? secret_hash,
        DateTime? not_after, DateTime created_at, DateTime? revoked_at)
    {
        public ParticipantCredential ToModel() => new()
        {
            Kind = Enum.Parse<CredentialKind>(kind), Key = key, ParticipantId = participant_id, IssuerId = issuer_id, Serial = serial,
            SecretHash = secret_hash, NotAfter = Utc(not_after), CreatedAt = Utc(created_at)!.Value, RevokedAt = Utc(revoked_at),
        };
    }

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private const string ParticipantColumns = "id, name, role, identities, organization, disabled, created_at";
    private const string CredentialColumns = "kind, key, participant_id, issuer_id, serial, secret_hash, not_after, created_at, revoked_at";

    public async Task<bool> CreateAsync(Participant p, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(
            "insert into participants (id, name, role, identities, organization, disabled) values (@Id, @Name, @role, @ids, @Organization, @Disabled) on conflict (id) do nothing",
            new { p.Id, p.Name, role = p.Role.ToString(), ids = p.Identities.ToArray(), p.Organization, p.Disabled }, tx);
        if (inserted == 0) return false;
        if (!await ClaimIdentitiesAsync(conn, tx, p)) return false;
        PostgresAuditWriter.AppendAtCommit(tx, [Audit(actor, "participant.create", p)]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return true;
    }

    public async Task<bool> UpdateAsync(Participant p, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var updated = await conn.ExecuteAsync(
            "update participants set name = @Name, identities = @ids, organization = @Organization, disabled = @Disabled where id = @Id",
            new { p.Id, p.Name, ids = p.Identities.ToArray(), p.Organization, p.Disabled }, tx);
        if (updated == 0) return false;
        await conn.ExecuteAsync("delete from participant_identities where participant_id = @Id", new { p.Id }, tx);
        if (!await ClaimIdentitiesAsync(conn, tx, p)) return false;
        PostgresAuditWriter.AppendAtCommit(tx, [Audit(actor, "participant.update", p)]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return true;
    }

    /// <summary>Claims each identity for the participant; false (and the caller rolls back) when another participant owns one.</summary>
    private static async Task<bool> ClaimIdentitiesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Participant p)
    {
        foreach (var identity in p.Identities)
        {
            var claimed = await conn.ExecuteAsync(
                "insert into participant_identities (identity, role, participant_id) values (@identity, @role, @Id) on conflict do nothing",
                new { identity, role = p.Role.ToString(), p.Id }, tx);
            if (claimed == 0) return false;
        }
        return true;
    }

    private static AuditEvent Audit(string actor, string action, Participant p) => new(actor, action, "participant/" + p.Id,
        new Dictionary<string, string> { ["role"] = p.Role.ToString(), ["identities"] = string.Join(",", p.Identities), ["disabled"] = p.Disabled ? "true" : "false" });

    public async Task<Participant?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<ParticipantRow>($"select {ParticipantColumns} from participants where id = @id", new { id }))?.ToModel();
    }

    public async Task<IReadOnlyList<Participant>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QueryAsync<ParticipantRow>($"select {ParticipantColumns} from participants order by id")).Select(r => r.ToModel()).ToList();
    }

    public async Task<bool> AddCredentialAsync(ParticipantCredential c, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(
            "insert into participant_credentials (kind, key, participant_id, issuer_id, serial, secret_hash, not_after) " +
            "values (@kind, @Key, @ParticipantId, @IssuerId, @Serial, @SecretHash, @NotAfter) on conflict do nothing",
            new { kind = c.Kind.ToString(), c.Key, c.ParticipantId, c.IssuerId, c.Serial, c.SecretHash, NotAfter = c.NotAfter?.UtcDateTime }, tx);
        if (inserted == 0) return false;
        // The audit names the credential, never a secret.
        PostgresAuditWriter.AppendAtCommit(tx, [new AuditEvent(actor, "participant.credential.add", "participant/" + c.ParticipantId,
            new Dictionary<string, string> { ["kind"] = c.Kind.ToString(), ["key"] = c.Key })]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return true;
    }

    /// <summary>Every authenticated request asks this, so a read that met a connection the database dropped is retried.</summary>
    public Task<(Participant Participant, ParticipantCredential Credential)?> FindCredentialAsync(CredentialKind kind, string key, CancellationToken ct = default) =>
        _retry.ExecuteAsync(async token => await FindCredentialOnceAsync(kind, key, token), ct).AsTask();

    private async Task<(Participant Participant, ParticipantCredential Credential)?> FindCredentialOnceAsync(CredentialKind kind, string key, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        var cred = await conn.QuerySingleOrDefaultAsync<CredentialRow>(
            $"select {CredentialColumns} from participant_credentials where kind = @kind and key = @key", new { kind = kind.ToString(), key });
        if (cred == null) return null;
        var p = await conn.QuerySingleOrDefaultAsync<ParticipantRow>($"select {ParticipantColumns} from participants where id = @id", new { id = cred.participant_id });
        return p == null ? null : (p.ToModel(), cred.ToModel());
    }

    public async Task<IReadOnlyList<ParticipantCredential>> ListCredentialsAsync(string participantId, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QueryAsync<CredentialRow>($"select {CredentialColumns} from participant_credentials where participant_id = @participantId order by created_at",
            new { participantId })).Select(r => r.ToModel()).ToList();
    }

    public async Task<bool> RevokeCredentialAsync(CredentialKind kind, string key, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var pid = await conn.ExecuteScalarAsync<string?>(
            "update participant_credentials set revoked_at = @now where kind = @kind and key = @key and revoked_at is null returning participant_id",
            new { kind = kind.ToString(), key, now = _clock.GetUtcNow().UtcDateTime }, tx);
        if (pid == null) return false;
        PostgresAuditWriter.AppendAtCommit(tx, [new AuditEvent(actor, "participant.credential.revoke", "participant/" + pid,
            new Dictionary<string, string> { ["kind"] = kind.ToString(), ["key"] = key })]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return true;
    }
}
