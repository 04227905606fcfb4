using Dapper;
using Npgsql;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage;

/// <summary>
/// The PKI stores on PostgreSQL. Every state change and its audit entry commit in one transaction; issued
/// certificates are recorded by group commit.
/// </summary>
public sealed class PostgresPkiStore : ICertificateAuthorityStore, ICertificateStore, IAuditLog, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly TimeProvider _clock;
    private readonly Polly.ResiliencePipeline _retry;
    private readonly GroupCommitQueue<(CertificateRecord Cert, AuditEvent Audit), bool> _issued;

    public PostgresPkiStore(NpgsqlDataSource db, TimeProvider? clock = null)
    {
        _db = db;
        _clock = clock ?? TimeProvider.System;
        _retry = PostgresFaults.Retry(db);
        _issued = new GroupCommitQueue<(CertificateRecord, AuditEvent), bool>(CommitIssuedAsync, abandonWhen: AbandonWhenSilent);
    }

    private (CancellationToken, Func<Exception>) AbandonWhenSilent() => (DatabaseReachability.SilenceOf(_db), () => DatabaseReachability.Silent(_db));

    private Task InTransactionAsync(Func<NpgsqlConnection, NpgsqlTransaction, Task> work, CancellationToken ct) =>
        PostgresFaults.InTransactionAsync(_db, _retry, _clock, work, ct);

    private static Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction tx, AuditEvent e)
    {
        PostgresAuditWriter.AppendAtCommit(tx, [e]);
        return Task.CompletedTask;
    }

    // ---- CAs and CRLs ----

    private sealed record CaRow(string id, string profile_id, string? parent_id, string key_uri, byte[] certificate_der, string status, string? ocsp_signer_serial, string? ocsp_signer_key_uri, DateTime created_at)
    {
        public CaRecord ToRecord() => new()
        {
            Id = id, ProfileId = profile_id, ParentId = parent_id, KeyUri = key_uri, CertificateDer = certificate_der, Status = Enum.Parse<CaStatus>(status),
            OcspSignerSerial = ocsp_signer_serial, OcspSignerKeyUri = ocsp_signer_key_uri, CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(created_at, DateTimeKind.Utc)),
        };
    }

    private const string CaColumns = "id, profile_id, parent_id, key_uri, certificate_der, status, ocsp_signer_serial, ocsp_signer_key_uri, created_at";

    public async Task<CaRecord?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<CaRow>($"select {CaColumns} from certificate_authorities where id = @id", new { id }))?.ToRecord();
    }

    public async Task<IReadOnlyList<CaRecord>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QueryAsync<CaRow>($"select {CaColumns} from certificate_authorities order by id")).Select(r => r.ToRecord()).ToList();
    }

    public Task CreateAsync(CaRecord ca, CertificateRecord? selfSignedCertificate, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            try
            {
                await c.ExecuteAsync("insert into certificate_authorities(id, profile_id, parent_id, key_uri, certificate_der, status) values (@Id, @ProfileId, @ParentId, @KeyUri, @CertificateDer, @Status)",
                    new { ca.Id, ca.ProfileId, ca.ParentId, ca.KeyUri, ca.CertificateDer, Status = ca.Status.ToString() }, tx);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new PkiException(PkiError.AlreadyExists, $"CA '{ca.Id}' already exists.", e);
            }
            if (selfSignedCertificate != null) await InsertCertificateAsync(c, tx, selfSignedCertificate);
            await AuditAsync(c, tx, audit);
        }, ct);

    public Task SetOcspSignerAsync(string caId, string serial, string keyUri, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("update certificate_authorities set ocsp_signer_serial = @serial, ocsp_signer_key_uri = @keyUri where id = @caId", new { caId, serial, keyUri }, tx);
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<long> NextCrlNumberAsync(string caId, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return await conn.ExecuteScalarAsync<long?>("update certificate_authorities set crl_number = crl_number + 1 where id = @caId returning crl_number", new { caId })
            ?? throw new PkiException(PkiError.UnknownCa, $"No CA '{caId}'.");
    }

    public Task StoreCrlAsync(CrlRecord crl, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("insert into crls(issuer_id, crl_number, this_update, next_update, der) values (@IssuerId, @Number, @ThisUpdate, @NextUpdate, @Der)",
                new { crl.IssuerId, crl.Number, ThisUpdate = crl.ThisUpdate.UtcDateTime, NextUpdate = crl.NextUpdate.UtcDateTime, crl.Der }, tx);
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<CrlRecord?> GetLatestCrlAsync(string caId, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        var r = await conn.QuerySingleOrDefaultAsync<(string IssuerId, long Number, DateTime ThisUpdate, DateTime NextUpdate, byte[] Der)?>(
            "select issuer_id, crl_number, this_update, next_update, der from crls where issuer_id = @caId order by crl_number desc limit 1", new { caId });
        return r is { } x ? new CrlRecord(x.IssuerId, x.Number, Utc(x.ThisUpdate), Utc(x.NextUpdate), x.Der) : null;
    }

    // ---- certificates ----

    private sealed record CertRow(string issuer_id, string serial, string profile_id, string subject, string status, DateTime? not_before, DateTime? not_after, byte[]? der, byte[]? sha256, DateTime? revoked_at, short? revocation_reason)
    {
        public CertificateRecord ToRecord() => new()
        {
            IssuerId = issuer_id, Serial = serial, ProfileId = profile_id, Subject = subject, Status = Enum.Parse<CertificateStatus>(status),
            NotBefore = not_before is { } nb ? Utc(nb) : default, NotAfter = not_after is { } na ? Utc(na) : default, Der = der, Sha256 = sha256,
            RevokedAt = revoked_at is { } ra ? Utc(ra) : null, RevocationReason = revocation_reason is { } rr ? (RevocationReason)rr : null,
        };
    }

    private const string CertColumns = "issuer_id, serial, profile_id, subject, status, not_before, not_after, der, sha256, revoked_at, revocation_reason";

    private static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));

    private static async Task InsertCertificateAsync(NpgsqlConnection c, NpgsqlTransaction tx, CertificateRecord r)
    {
        await using var batch = new NpgsqlBatch(c, tx) { BatchCommands = { CertificateInsert([r]) } };
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>Values of the serial counter (migration 0007), a block in one statement.</summary>
    public async Task<IReadOnlyList<long>> NextSerialCountersAsync(int count, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition(
            "select nextval('certificate_serial_counter') from generate_series(1, @count)", new { count }, cancellationToken: ct))).ToList();
    }

    public Task RecordIssuedAsync(CertificateRecord certificate, AuditEvent audit, CancellationToken ct = default) => _issued.EnqueueAsync((certificate, audit));

    /// <summary>
    /// Records a batch of issued certificates and their audit entries in one round trip (<see cref="PostgresAuditWriter.CommitAsync"/>),
    /// retried while it certainly did not commit; a lost acknowledgement of COMMIT is settled by reading the rows back.
    /// </summary>
    private async Task<IReadOnlyList<bool>> CommitIssuedAsync(IReadOnlyList<(CertificateRecord Cert, AuditEvent Audit)> batch)
    {
        var certs = batch.Select(b => b.Cert).ToList();
        try
        {
            await _retry.ExecuteAsync(async _ => await PostgresAuditWriter.CommitAsync(_db, [CertificateInsert(certs)], null, batch.Select(b => b.Audit).ToList(), _clock));
        }
        catch (PostgresException e) when (IsSerialCollision(e))
        {
            throw SerialCollision(e);
        }
        catch (Exception e) when (PostgresFaults.IsCommitOutcomeUnknown(e))
        {
            // The acknowledgement of COMMIT was lost: the certificates may be recorded (one transaction, so all or none).
            // Read back instead of failing callers whose certificates exist.
            var recorded = await PostgresFaults.ReadBackAsync(_db, async c => await c.ExecuteScalarAsync<long>(
                "select count(*) from certificates where (issuer_id, serial) in (select * from unnest(@issuers, @serials))",
                new { issuers = certs.Select(x => x.IssuerId).ToArray(), serials = certs.Select(x => x.Serial).ToArray() }) == certs.Count);
            if (recorded != true) throw;
        }
        return batch.Select(_ => true).ToList();
    }

    /// <summary>
    /// The statement that records certificates (each with its <see cref="CertificateRecord.Status"/>), for this store and
    /// for a store that records a certificate in one transaction with its own change (<see cref="Pki.Issuance.PendingIssuance"/>).
    /// Each row is written once: the primary key turns a serial recorded before into a unique violation, which fails the
    /// whole transaction.
    /// </summary>
    internal static NpgsqlBatchCommand CertificateInsert(IReadOnlyList<CertificateRecord> certs) => new(
        "insert into certificates(issuer_id, serial, profile_id, subject, status, not_before, not_after, der, sha256) " +
        "select u.i, u.s, u.p, u.subj, u.st, u.nb, u.na, u.der, u.sha from unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) as u(i, s, nb, na, der, sha, p, subj, st)")
    {
        Parameters =
        {
            new() { Value = certs.Select(x => x.IssuerId).ToArray() }, new() { Value = certs.Select(x => x.Serial).ToArray() },
            new() { Value = certs.Select(x => x.NotBefore.UtcDateTime).ToArray() }, new() { Value = certs.Select(x => x.NotAfter.UtcDateTime).ToArray() },
            new() { Value = certs.Select(x => x.Der!).ToArray() }, new() { Value = certs.Select(x => x.Sha256!).ToArray() },
            new() { Value = certs.Select(x => x.ProfileId).ToArray() }, new() { Value = certs.Select(x => x.Subject).ToArray() },
            new() { Value = certs.Select(x => x.Status.ToString()).ToArray() },
        },
    };

    /// <summary>A certificate row that exists already: <see cref="CertificateInsert"/> met a serial recorded before.</summary>
    internal static bool IsSerialCollision(PostgresException e) => e.SqlState == PostgresErrorCodes.UniqueViolation && e.TableName == "certificates";

    internal static PkiException SerialCollision(PostgresException e) => new(PkiError.SerialCollision, "A certificate with this serial is recorded already.", e);

    public Task RecordFailedAsync(string issuerId, string serial, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("insert into certificates(issuer_id, serial, profile_id, subject, status) values (@issuerId, @serial, '', '', 'Failed') on conflict do nothing",
                new { issuerId, serial }, tx);
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<CertificateRecord?> GetAsync(string issuerId, string serial, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<CertRow>($"select {CertColumns} from certificates where issuer_id = @issuerId and serial = @serial", new { issuerId, serial }))?.ToRecord();
    }

    public async Task<IReadOnlyList<CertificateRecord>> GetManyAsync(IReadOnlyCollection<(string IssuerId, string Serial)> keys, CancellationToken ct = default)
    {
        if (keys.Count == 0) return [];
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QueryAsync<CertRow>(new CommandDefinition(
            $"select {CertColumns} from certificates where (issuer_id, serial) in (select * from unnest(@issuers, @serials))",
            new { issuers = keys.Select(k => k.IssuerId).ToArray(), serials = keys.Select(k => k.Serial).ToArray() }, cancellationToken: ct)))
            .Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Every CA's certificate with this serial: one primary-key probe per CA (migration 0009 dropped the index on serial alone).</summary>
    public async Task<IReadOnlyList<CertificateRecord>> FindBySerialAsync(string serial, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        return (await conn.QueryAsync<CertRow>(new CommandDefinition(
            $"select {CertColumns} from certificates where (issuer_id, serial) in (select id, @serial from certificate_authorities)",
            new { serial }, cancellationToken: ct))).Select(r => r.ToRecord()).ToList();
    }

    public async Task<RevocationOutcome> RevokeAsync(string issuerId, string serial, RevocationReason reason, DateTimeOffset at, AuditEvent audit, CancellationToken ct = default)
    {
        RevocationOutcome outcome = new(false, false, null, null);
        await InTransactionAsync(async (c, tx) =>
        {
            // Row lock: two concurrent revocations of one certificate serialize; the second sees the first.
            var row = await c.QuerySingleOrDefaultAsync<CertRow>($"select {CertColumns} from certificates where issuer_id = @issuerId and serial = @serial for update", new { issuerId, serial }, tx);
            if (row == null || row.status is "Reserved" or "Failed") return;
            if (row.status == "Revoked") { outcome = new RevocationOutcome(true, true, Utc(row.revoked_at!.Value), (RevocationReason)row.revocation_reason!.Value); return; }
            var when = AuditChain.Normalize(at);
            await c.ExecuteAsync("update certificates set status = 'Revoked', revoked_at = @when, revocation_reason = @reason where issuer_id = @issuerId and serial = @serial",
                new { when = when.UtcDateTime, reason = (short)reason, issuerId, serial }, tx);
            await AuditAsync(c, tx, audit);
            outcome = new RevocationOutcome(true, false, when, reason);
        }, ct);
        return outcome;
    }

    public async Task<IReadOnlyList<RevokedEntry>> ListRevokedAsync(string issuerId, CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        var rows = await conn.QueryAsync<(string Serial, DateTime RevokedAt, short Reason)>(
            "select serial, revoked_at, revocation_reason from certificates where issuer_id = @issuerId and status = 'Revoked' order by revoked_at", new { issuerId });
        return rows.Select(r => new RevokedEntry(r.Serial, Utc(r.RevokedAt), (RevocationReason)r.Reason)).ToList();
    }

    // ---- audit ----

    public Task AppendAsync(AuditEvent audit, CancellationToken ct = default) => _retry.ExecuteAsync(async _ => await PostgresAuditWriter.CommitAsync(_db, [], null, [audit], _clock), ct).AsTask();

    public async IAsyncEnumerable<AuditEntry> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var conn = await _db.ConnectAsync(ct);
        // Reading a long log (`pnc audit verify`) may outlast the service's statement timeout: lift it for this
        // transaction only (the pool keeps sessions, SET LOCAL ends with it).
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await using (var noTimeout = new NpgsqlCommand("set local statement_timeout = 0", conn, tx)) await noTimeout.ExecuteNonQueryAsync(ct);
        await using (var cmd = new NpgsqlCommand("select seq, at, actor, action, subject, details, prev_hash, hash from audit_log order by seq", conn, tx))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                yield return new AuditEntry(r.GetInt64(0), Utc(r.GetDateTime(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), (byte[])r[6], (byte[])r[7]);
        await tx.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _issued.DisposeAsync();
    }
}
