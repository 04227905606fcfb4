using Dapper;
using Npgsql;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>
/// Contracts on PostgreSQL. Every change commits in one transaction with its audit entry and the webhook outbox rows it
/// causes; on the installation path the contexts are read and the contract certificates recorded by group commit
/// (<see cref="GroupCommitQueue{T, TResult}"/>).
/// </summary>
public sealed class PostgresContractStore : PostgresStore, IContractStore, IAsyncDisposable
{
    private readonly GroupCommitQueue<CertificateUpdate, bool> _certificates;
    private readonly GroupCommitQueue<string, InstallationContext> _contexts;

    private sealed record CertificateUpdate(Guid ContractId, ContractCertificate Certificate, byte[]? SignedData, DateTimeOffset At, AuditEvent Audit, IReadOnlyList<WebhookEvent> Events, PendingIssuance? Issuance);

    public PostgresContractStore(NpgsqlDataSource db, TimeProvider? clock = null) : base(db, clock)
    {
        _certificates = new GroupCommitQueue<CertificateUpdate, bool>(CommitCertificatesAsync, abandonWhen: AbandonWhenSilent);
        _contexts = new GroupCommitQueue<string, InstallationContext>(ReadContextsAsync, abandonWhen: AbandonWhenSilent);
    }

    private sealed class ContractRow
    {
        public Guid id { get; set; }
        public string emaid { get; set; } = null!;
        public string pcid { get; set; } = null!;
        public string emsp_id { get; set; } = null!;
        public string standard { get; set; } = null!;
        public string origin { get; set; } = null!;
        public bool is_default { get; set; }
        public string state { get; set; } = null!;
        public string? cert_issuer_id { get; set; }
        public string? cert_serial { get; set; }
        public byte[]? cert_der { get; set; }
        public byte[][]? cert_sub_ca_ders { get; set; }
        public DateTime? cert_not_before { get; set; }
        public DateTime? cert_not_after { get; set; }
        public string? cert_key_algorithm { get; set; }
        public byte[]? wrapped_private_key { get; set; }
        public byte[]? vehicle_encrypted_key { get; set; }
        public byte[]? dh_public_key { get; set; }
        public byte[]? signed_data { get; set; }
        public DateTime? contract_ends { get; set; }
        public DateTime created_at { get; set; }
        public DateTime updated_at { get; set; }
        public DateTime? terminated_at { get; set; }
        public string? termination_reason { get; set; }

        public Contract ToRecord() => new()
        {
            Id = id, Emaid = emaid, Pcid = pcid, EmspId = emsp_id, Standard = Enum.Parse<IsoStandard>(standard), Origin = Enum.Parse<ContractOrigin>(origin), IsDefault = is_default,
            State = Enum.Parse<ContractState>(state), SignedData = signed_data, ContractEnds = Utc(contract_ends), CreatedAt = Utc(created_at), UpdatedAt = Utc(updated_at),
            TerminatedAt = Utc(terminated_at), TerminationReason = termination_reason,
            Certificate = cert_der == null ? null : new ContractCertificate
            {
                IssuerId = cert_issuer_id, Serial = cert_serial!, Der = cert_der, SubCaDers = cert_sub_ca_ders ?? [], NotBefore = Utc(cert_not_before!.Value), NotAfter = Utc(cert_not_after!.Value),
                KeyAlgorithm = Enum.Parse<KeyAlgorithm>(cert_key_algorithm!), WrappedPrivateKey = wrapped_private_key, VehicleEncryptedKey = vehicle_encrypted_key, DhPublicKey = dh_public_key,
            },
        };
    }

    /// <summary>Contracts (k) with their current certificate (c), which has a row of its own (migration 0006); callers add the where clause.</summary>
    private const string ContractSelect = "select k.id, k.emaid, k.pcid, k.emsp_id, k.standard, k.origin, k.is_default, k.state, c.issuer_id as cert_issuer_id, c.serial as cert_serial, " +
        "c.der as cert_der, c.sub_ca_ders as cert_sub_ca_ders, c.not_before as cert_not_before, c.not_after as cert_not_after, c.key_algorithm as cert_key_algorithm, " +
        "c.wrapped_private_key, c.vehicle_encrypted_key, c.dh_public_key, c.signed_data, k.contract_ends, k.created_at, greatest(k.updated_at, c.recorded_at) as updated_at, " +
        "k.terminated_at, k.termination_reason from contracts k left join contract_certificates c on c.contract_id = k.id";

    internal const string TerminateSet = "state = 'Terminated', is_default = false, terminated_at = @at, termination_reason = @reason, updated_at = @at";

    /// <summary>
    /// Termination purges every key and the signed data of the contracts' certificates; the certificates stay for the record.
    /// Run as a statement of its own after the contracts' update: a certificate being recorded holds its contract's row
    /// (for share) until it commits, the update waits for that, and only a later statement's snapshot sees the new row.
    /// </summary>
    internal const string PurgeKeys = "update contract_certificates set wrapped_private_key = null, vehicle_encrypted_key = null, dh_public_key = null, signed_data = null " +
        "where contract_id = any(@ids)";

    public async Task<Contract> CreateContractAsync(Contract k, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        // Signed data is a signed installation response carrying the certificate: it is stored in the certificate's row.
        if (k.SignedData != null && k.Certificate == null) throw new ArgumentException("Signed data comes with the certificate it carries.", nameof(k));
        var stored = k;
        await InTransactionAsync(async (c, tx) =>
        {
            // An eMSP's default displaces only its own contracts' default; another eMSP's stays (the vehicle's OEM chooses
            // between eMSPs). The partial unique index contracts_default_per_vehicle settles a race of two such inserts.
            if (k.IsDefault)
            {
                await c.ExecuteAsync("update contracts set is_default = false where pcid = @Pcid and is_default and emsp_id = @EmspId", new { k.Pcid, k.EmspId }, tx);
                var otherDefault = await c.QueryAsync<Guid>(
                    "select id from contracts where pcid = @Pcid and state = 'Active' and is_default and emsp_id <> @EmspId for update", new { k.Pcid, k.EmspId }, tx);
                if (otherDefault.Any()) stored = k with { IsDefault = false };
            }
            try
            {
                await c.ExecuteAsync($"""
                    insert into contracts(id, emaid, pcid, emsp_id, standard, origin, is_default, state, contract_ends, created_at, updated_at)
                    values (@Id, @Emaid, @Pcid, @EmspId, @Standard, @Origin, @IsDefault, @State, @ContractEnds, @CreatedAt, @UpdatedAt)
                    """,
                    new
                    {
                        stored.Id, stored.Emaid, stored.Pcid, stored.EmspId, Standard = stored.Standard.ToString(), Origin = stored.Origin.ToString(), stored.IsDefault,
                        State = stored.State.ToString(), ContractEnds = stored.ContractEnds?.UtcDateTime, CreatedAt = stored.CreatedAt.UtcDateTime, UpdatedAt = stored.UpdatedAt.UtcDateTime,
                    }, tx);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "contracts_default_per_vehicle")
            {
                throw new ContractException(ContractError.DefaultHeldByOther, $"Another contract became the default of {k.Pcid} meanwhile; bind again.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ContractException(ContractError.AlreadyExists, $"An active contract for {k.Emaid} exists.", e);
            }
            if (k.Certificate != null)
            {
                var linked = new[] { (k.Id, k.Certificate, k.SignedData, k.UpdatedAt) };
                await using var batch = new NpgsqlBatch(c, tx) { BatchCommands = { CertificateUpsert(linked), HistoryInsert(linked) } };
                await batch.ExecuteNonQueryAsync();
            }
            await PostgresWebhookStore.EnqueueAsync(c, tx, events);
            await AuditAsync(c, tx, audit);
        }, ct);
        return stored;
    }

    private sealed record HistoryRow(string? issuer_id, string serial, DateTime not_after, DateTime recorded_at, DateTime? superseded_at);

    /// <summary>History rows with the time each was superseded: when the next one was linked (null for the current one).</summary>
    private const string HistorySelect = """
        select h.issuer_id, h.serial, h.not_after, h.recorded_at,
               case when c.serial = h.serial and c.issuer_id is not distinct from h.issuer_id then null
                    else coalesce((select min(n.recorded_at) from contract_certificate_history n where n.contract_id = h.contract_id and n.recorded_at > h.recorded_at), h.recorded_at)
               end as superseded_at
        from contract_certificate_history h left join contract_certificates c on c.contract_id = h.contract_id
        """;

    private static ContractCertificateEntry ToEntry(HistoryRow r) => new(r.issuer_id, r.serial, Utc(r.not_after), Utc(r.recorded_at), Utc(r.superseded_at));

    public async Task<ContractCertificateEntry?> FindContractCertificateAsync(Guid contractId, byte[] sha256, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        var r = await conn.QuerySingleOrDefaultAsync<HistoryRow>(new CommandDefinition($"{HistorySelect} where h.contract_id = @contractId and h.sha256 = @sha256",
            new { contractId, sha256 }, cancellationToken: ct));
        return r == null ? null : ToEntry(r);
    }

    public async Task<IReadOnlyList<ContractCertificateEntry>> ListContractCertificatesAsync(Guid contractId, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<HistoryRow>(new CommandDefinition($"{HistorySelect} where h.contract_id = @contractId order by h.recorded_at",
            new { contractId }, cancellationToken: ct))).Select(ToEntry).ToList();
    }

    public async Task<Contract?> GetContractAsync(Guid id, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<ContractRow>($"{ContractSelect} where k.id = @id", new { id }))?.ToRecord();
    }

    public async Task<IReadOnlyList<Contract>> FindByEmaidAsync(string emaid, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<ContractRow>($"{ContractSelect} where k.emaid = @emaid order by (k.state = 'Active') desc, k.created_at desc", new { emaid }))
            .Select(r => r.ToRecord()).ToList();
    }

    public async Task<ContractStatusRecord?> FindStatusAsync(string emaid, CancellationToken ct = default)
    {
        // One indexed read; the certificate's revocation comes from the CA's table in the same query.
        await using var conn = await Db.ConnectAsync(ct);
        var r = await conn.QuerySingleOrDefaultAsync<StatusRow>(new CommandDefinition("""
            select k.emaid, k.state, k.pcid, k.emsp_id, c.issuer_id as cert_issuer_id, c.serial as cert_serial, c.not_before as cert_not_before, c.not_after as cert_not_after,
                   case when c.issuer_id is null then null else coalesce(x.status = 'Revoked', false) end as cert_revoked
            from contracts k left join contract_certificates c on c.contract_id = k.id left join certificates x on x.issuer_id = c.issuer_id and x.serial = c.serial
            where k.emaid = @emaid order by (k.state = 'Active') desc, k.created_at desc limit 1
            """, new { emaid }, cancellationToken: ct));
        return r == null ? null : new ContractStatusRecord(r.emaid, Enum.Parse<ContractState>(r.state), r.pcid, r.emsp_id, r.cert_issuer_id, r.cert_serial,
            Utc(r.cert_not_before), Utc(r.cert_not_after), r.cert_revoked);
    }

    private sealed record StatusRow(string emaid, string state, string pcid, string emsp_id, string? cert_issuer_id, string? cert_serial,
        DateTime? cert_not_before, DateTime? cert_not_after, bool? cert_revoked);

    public async Task<IReadOnlyList<Contract>> ListForVehicleAsync(string pcid, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<ContractRow>($"{ContractSelect} where k.pcid = @pcid order by k.created_at", new { pcid })).Select(r => r.ToRecord()).ToList();
    }

    private sealed record InstallationContext(ProvisioningCertificate? Vehicle, IReadOnlyList<Contract> Contracts);

    public async Task<(ProvisioningCertificate? Vehicle, IReadOnlyList<Contract> Contracts)> GetInstallationContextAsync(string pcid, CancellationToken ct = default)
    {
        var context = await _contexts.EnqueueAsync(pcid).WaitAsync(ct);
        return (context.Vehicle, context.Contracts);
    }

    public async Task<int?> GetInstallationCursorAsync(string sessionKey, DateTimeOffset notBefore, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return await conn.ExecuteScalarAsync<int?>(new CommandDefinition(
            "select next_index from iso20_installation_cursors where session_key = @sessionKey and updated_at >= @notBefore",
            new { sessionKey, notBefore }, cancellationToken: ct));
    }

    public async Task SetInstallationCursorAsync(string sessionKey, int next, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        // One statement: the session's cursor, and the cursors of sessions long over (never this row: a statement must
        // not touch one row twice).
        await conn.ExecuteAsync(new CommandDefinition("""
            with forgotten as (delete from iso20_installation_cursors where updated_at < @forgetBefore and session_key <> @sessionKey)
            insert into iso20_installation_cursors (session_key, next_index, updated_at) values (@sessionKey, @next, @at)
            on conflict (session_key) do update set next_index = excluded.next_index, updated_at = excluded.updated_at
            """, new { sessionKey, next, at, forgetBefore }, cancellationToken: ct));
    }

    /// <summary>
    /// The contexts of concurrent installations in one round trip (two statements over all their PCIDs): the read every
    /// installation makes was the only round trip on the hot path not shared between callers.
    /// </summary>
    private async Task<IReadOnlyList<InstallationContext>> ReadContextsAsync(IReadOnlyList<string> pcids)
    {
        await using var conn = await Db.ConnectAsync();
        await using var multi = await conn.QueryMultipleAsync(
            $"select {PostgresProvisioningCertificateStore.VehicleColumns} from provisioning_certificates where pcid = any(@pcids); " +
            $"{ContractSelect} where k.pcid = any(@pcids) and k.state = 'Active' order by k.created_at", new { pcids = pcids.Distinct().ToArray() });
        var vehicles = (await multi.ReadAsync<PostgresProvisioningCertificateStore.VehicleRow>()).ToDictionary(v => v.pcid, v => v.ToRecord(), StringComparer.Ordinal);
        var contracts = (await multi.ReadAsync<ContractRow>()).Select(r => r.ToRecord()).ToLookup(c => c.Pcid, StringComparer.Ordinal);
        return pcids.Select(p => new InstallationContext(vehicles.GetValueOrDefault(p), contracts[p].ToList())).ToList();
    }

    public Task SetDefaultAsync(string pcid, Guid contractId, AuditEvent audit, IReadOnlyList<WebhookEvent> events, string? onlyOverEmsp = null, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            // The rows of the vehicle's default are locked, so a concurrent change waits and then sees this one.
            var held = await c.QueryAsync<string>("select emsp_id from contracts where pcid = @pcid and state = 'Active' and is_default and id <> @contractId for update", new { pcid, contractId }, tx);
            if (onlyOverEmsp != null && held.Any(e => e != onlyOverEmsp))
                throw new ContractException(ContractError.DefaultHeldByOther, $"Another eMSP's contract is the default of {pcid}; the vehicle's OEM chooses between eMSPs.");
            await c.ExecuteAsync("update contracts set is_default = false where pcid = @pcid and is_default and id <> @contractId", new { pcid, contractId }, tx);
            if (await c.ExecuteAsync("update contracts set is_default = true where id = @contractId and pcid = @pcid and state = 'Active'", new { pcid, contractId }, tx) != 1)
                throw new ContractException(ContractError.UnknownContract, $"No active contract {contractId} for {pcid}.");
            await PostgresWebhookStore.EnqueueAsync(c, tx, events);
            await AuditAsync(c, tx, audit);
        }, ct);

    public Task RecordCertificateAsync(Guid contractId, ContractCertificate certificate, byte[]? signedData, DateTimeOffset at, AuditEvent audit, IReadOnlyList<WebhookEvent> events,
        PendingIssuance? issuance = null, CancellationToken ct = default) =>
        _certificates.EnqueueAsync(new CertificateUpdate(contractId, certificate, signedData, at, audit, events, issuance));

    /// <summary>
    /// Records a batch of contract certificates, and the CA records of those the hub just issued, with one statement per
    /// table (unnest over column arrays) and two round trips (<see cref="PostgresAuditWriter.CommitAsync"/>; the second,
    /// after the row-count check, appends the audit entries and commits): the batch loop is serialized, so its cost per
    /// item must stay small.
    /// </summary>
    private async Task<IReadOnlyList<bool>> CommitCertificatesAsync(IReadOnlyList<CertificateUpdate> batch)
    {
        var statements = new List<NpgsqlBatchCommand>();
        var issued = batch.Where(b => b.Issuance != null).Select(b => b.Issuance!).ToList();
        if (issued.Count > 0) statements.Add(PostgresPkiStore.CertificateInsert(issued.Select(i => i.Issued.Record).ToList()));
        // One row per contract, and one statement may not change a row twice: of two installations of one contract in a
        // batch the later certificate is the contract's (both stay in the CA's records and the audit log).
        // In contract order: two instances' batches that share contracts lock their rows in the same order, so they queue
        // behind each other instead of deadlocking (PostgreSQL locks an upsert's rows in the order of its input).
        var current = batch.GroupBy(b => b.ContractId).Select(g => g.Last()).OrderBy(b => b.ContractId).Select(b => (b.ContractId, b.Certificate, b.SignedData, b.At)).ToList();
        var upsert = CertificateUpsert(current);
        statements.Add(upsert);
        // Every certificate of the batch joins its contract's history, also one a later one of the batch replaced at once.
        statements.Add(HistoryInsert(batch.Select(b => (b.ContractId, b.Certificate, b.SignedData, b.At)).ToList()));
        if (PostgresWebhookStore.OutboxInsert(batch.SelectMany(b => b.Events).ToList()) is { } outbox) statements.Add(outbox);
        // The CA's entry for a certificate precedes the contract's entry that links it.
        var audit = batch.SelectMany(b => b.Issuance is { } i ? [i.Audit, b.Audit] : new[] { b.Audit }).ToList();
        try
        {
            await PostgresAuditWriter.CommitAsync(Db, statements, () =>
            {
                if (upsert.RecordsAffected != current.Count) throw new ContractException(ContractError.ContractTerminated, "The contract is no longer active.");
            }, audit, Clock);
        }
        catch (PostgresException e) when (PostgresPkiStore.IsSerialCollision(e))
        {
            throw PostgresPkiStore.SerialCollision(e);
        }
        catch (Exception e) when (PostgresFaults.IsCommitOutcomeUnknown(e))
        {
            // The acknowledgement of COMMIT was lost: read back whether every certificate joined its contract's history
            // (one transaction, so all or none) instead of failing installations whose certificates exist.
            var pairs = batch.Select(b => (b.ContractId, b.Certificate.Der)).Distinct().ToList();
            var recorded = await PostgresFaults.ReadBackAsync(Db, async c => await c.ExecuteScalarAsync<long>(
                "select count(*) from contract_certificate_history h join unnest(@ids, @ders) as u(id, der) on h.contract_id = u.id and h.sha256 = sha256(u.der)",
                new { ids = pairs.Select(p => p.ContractId).ToArray(), ders = pairs.Select(p => p.Der).ToArray() }) == pairs.Count);
            if (recorded != true) throw;
        }
        return batch.Select(_ => true).ToList();
    }

    /// <summary>
    /// The SET list of the upsert: the certificate recorded at the later time stays current. Two installations of one
    /// contract can commit in the other order than they were issued (two instances, or a batch retried after a restart),
    /// and the one issued last must remain the contract's current certificate; the earlier one still joins the history.
    /// Every column is set (to itself when the stored one is later), so the row counts as written and the row count still
    /// tells a contract that ended from one that did not.
    /// </summary>
    private static readonly string LaterCertificateWins = string.Join(",\n", new[]
        {
            "issuer_id", "serial", "der", "sub_ca_ders", "not_before", "not_after", "key_algorithm", "wrapped_private_key", "vehicle_encrypted_key",
            "dh_public_key",
        }.Select(column => $"    {column} = case when excluded.recorded_at >= c.recorded_at then excluded.{column} else c.{column} end")
        .Append("    signed_data = case when excluded.recorded_at >= c.recorded_at then coalesce(excluded.signed_data, c.signed_data) else c.signed_data end")
        .Append("    recorded_at = greatest(c.recorded_at, excluded.recorded_at)"));

    /// <summary>
    /// Makes each certificate its contract's current one, for active contracts only (one row per contract they record);
    /// signed data given stays until new signed data replaces it. The contract row is locked for share, not rewritten:
    /// enough to hold off a termination until this commits, so the termination's purge sees the new keys
    /// (<see cref="PurgeKeys"/>); and a termination that came first leaves the contract out. ISO 15118 chains have at
    /// most two sub-CAs [V2G2-009].
    /// </summary>
    private static NpgsqlBatchCommand CertificateUpsert(IReadOnlyList<(Guid ContractId, ContractCertificate Certificate, byte[]? SignedData, DateTimeOffset At)> updates)
    {
        var certs = updates.Select(b => b.Certificate).ToList();
        return new NpgsqlBatchCommand("""
            insert into contract_certificates as c (contract_id, issuer_id, serial, der, sub_ca_ders, not_before, not_after, key_algorithm,
                wrapped_private_key, vehicle_encrypted_key, dh_public_key, signed_data, recorded_at)
            select u.id, u.issuer, u.serial, u.der, array_remove(array[u.sub2, u.sub1], null), u.nb, u.na, u.alg, u.wrapped, u.venc, u.dh, u.signed, u.at
            from unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[], $14::timestamptz[])
                as u(id, issuer, serial, der, sub2, sub1, nb, na, alg, wrapped, venc, dh, signed, at)
            join contracts k on k.id = u.id and k.state = 'Active'
            for share of k
            on conflict (contract_id) do update set
            """ + LaterCertificateWins + """

            """)
        {
            Parameters =
            {
                new() { Value = updates.Select(b => b.ContractId).ToArray() }, new() { Value = certs.Select(x => x.IssuerId).ToArray() },
                new() { Value = certs.Select(x => x.Serial).ToArray() }, new() { Value = certs.Select(x => x.Der).ToArray() },
                new() { Value = certs.Select(x => x.SubCaDers.ElementAtOrDefault(0)).ToArray() }, new() { Value = certs.Select(x => x.SubCaDers.ElementAtOrDefault(1)).ToArray() },
                new() { Value = certs.Select(x => x.NotBefore.UtcDateTime).ToArray() }, new() { Value = certs.Select(x => x.NotAfter.UtcDateTime).ToArray() },
                new() { Value = certs.Select(x => x.KeyAlgorithm.ToString()).ToArray() }, new() { Value = certs.Select(x => x.WrappedPrivateKey).ToArray() },
                new() { Value = certs.Select(x => x.VehicleEncryptedKey).ToArray() }, new() { Value = certs.Select(x => x.DhPublicKey).ToArray() },
                new() { Value = updates.Select(b => b.SignedData).ToArray() }, new() { Value = updates.Select(b => b.At.UtcDateTime).ToArray() },
            },
        };
    }

    /// <summary>
    /// Adds certificates to their contracts' history (migration 0010), for active contracts only, in the transaction that
    /// links them: what an update may be signed with and what ending the contract revokes.
    /// </summary>
    private static NpgsqlBatchCommand HistoryInsert(IReadOnlyList<(Guid ContractId, ContractCertificate Certificate, byte[]? SignedData, DateTimeOffset At)> updates) => new("""
        insert into contract_certificate_history(contract_id, sha256, issuer_id, serial, not_after, recorded_at)
        select u.id, sha256(u.der), u.issuer, u.serial, u.na, u.at
        from unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[], $6::timestamptz[]) as u(id, issuer, serial, der, na, at)
        join contracts k on k.id = u.id and k.state = 'Active'
        on conflict (contract_id, sha256) do nothing
        """)
    {
        Parameters =
        {
            new() { Value = updates.Select(b => b.ContractId).ToArray() }, new() { Value = updates.Select(b => b.Certificate.IssuerId).ToArray() },
            new() { Value = updates.Select(b => b.Certificate.Serial).ToArray() }, new() { Value = updates.Select(b => b.Certificate.Der).ToArray() },
            new() { Value = updates.Select(b => b.Certificate.NotAfter.UtcDateTime).ToArray() }, new() { Value = updates.Select(b => b.At.UtcDateTime).ToArray() },
        },
    };

    public async Task<bool> TerminateAsync(Guid contractId, DateTimeOffset at, string reason, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        var done = false;
        await InTransactionAsync(async (c, tx) =>
        {
            done = await c.ExecuteAsync($"update contracts set {TerminateSet} where id = @contractId and state = 'Active'", new { contractId, at = at.UtcDateTime, reason }, tx) == 1;
            if (!done) return;
            await c.ExecuteAsync(PurgeKeys, new { ids = new[] { contractId } }, tx);
            await PostgresWebhookStore.EnqueueAsync(c, tx, events);
            await AuditAsync(c, tx, audit);
        }, ct);
        return done;
    }

    public async ValueTask DisposeAsync()
    {
        await _contexts.DisposeAsync();
        await _certificates.DisposeAsync();
    }
}
