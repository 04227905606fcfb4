using Dapper;
using Npgsql;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>
/// The provisioning certificate pool on PostgreSQL; each change commits with its audit entry. Deleting a vehicle ends
/// its contracts in the same transaction (<see cref="PostgresContractStore.TerminateSet"/>).
/// </summary>
public sealed class PostgresProvisioningCertificateStore : PostgresStore, IProvisioningCertificateStore
{
    public PostgresProvisioningCertificateStore(NpgsqlDataSource db, TimeProvider? clock = null) : base(db, clock) { }

    internal sealed class VehicleRow
    {
        public string pcid { get; set; } = null!;
        public string oem_id { get; set; } = null!;
        public byte[] certificate_der { get; set; } = null!;
        public byte[][] sub_ca_ders { get; set; } = null!;
        public Guid root_id { get; set; }
        public string standard { get; set; } = null!;
        public string key_algorithm { get; set; } = null!;
        public DateTime valid_to { get; set; }
        public string status { get; set; } = null!;
        public DateTime added_at { get; set; }

        public ProvisioningCertificate ToRecord() => new()
        {
            Pcid = pcid, OemId = oem_id, CertificateDer = certificate_der, SubCaDers = sub_ca_ders, RootId = root_id, Standard = Enum.Parse<IsoStandard>(standard),
            KeyAlgorithm = key_algorithm, ValidTo = Utc(valid_to), Status = Enum.Parse<ProvisioningStatus>(status), AddedAt = Utc(added_at),
        };
    }

    internal const string VehicleColumns = "pcid, oem_id, certificate_der, sub_ca_ders, root_id, standard, key_algorithm, valid_to, status, added_at";

    public Task PutProvisioningAsync(ProvisioningCertificate v, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync($"""
                insert into provisioning_certificates({VehicleColumns}) values (@Pcid, @OemId, @CertificateDer, @SubCaDers, @RootId, @Standard, @KeyAlgorithm, @ValidTo, @Status, @AddedAt)
                on conflict (pcid) do update set oem_id = excluded.oem_id, certificate_der = excluded.certificate_der, sub_ca_ders = excluded.sub_ca_ders, root_id = excluded.root_id,
                    standard = excluded.standard, key_algorithm = excluded.key_algorithm, valid_to = excluded.valid_to, status = excluded.status
                """,
                new
                {
                    v.Pcid, v.OemId, v.CertificateDer, SubCaDers = v.SubCaDers.ToArray(), v.RootId, Standard = v.Standard.ToString(), v.KeyAlgorithm, ValidTo = v.ValidTo.UtcDateTime,
                    Status = v.Status.ToString(), AddedAt = v.AddedAt.UtcDateTime,
                }, tx);
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<ProvisioningCertificate?> GetProvisioningAsync(string pcid, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<VehicleRow>($"select {VehicleColumns} from provisioning_certificates where pcid = @pcid", new { pcid }))?.ToRecord();
    }

    public Task SetProvisioningStatusAsync(string pcid, ProvisioningStatus status, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            if (await c.ExecuteAsync("update provisioning_certificates set status = @status where pcid = @pcid", new { pcid, status = status.ToString() }, tx) != 1)
                throw new ContractException(ContractError.UnknownVehicle, $"No vehicle {pcid}.");
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<IReadOnlyList<Guid>> DeleteProvisioningAsync(string pcid, DateTimeOffset at, string reason, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        Guid[] ended = [];
        await InTransactionAsync(async (c, tx) =>
        {
            var oem = await c.ExecuteScalarAsync<string?>("select oem_id from provisioning_certificates where pcid = @pcid for update", new { pcid }, tx);
            if (oem == null) return;
            await PostgresWebhookStore.EnqueueAsync(c, tx, events);
            var ids = (await c.QueryAsync<Guid>($"update contracts set {PostgresContractStore.TerminateSet} where pcid = @pcid and state = 'Active' returning id", new { pcid, at = at.UtcDateTime, reason }, tx)).ToArray();
            await c.ExecuteAsync(PostgresContractStore.PurgeKeys, new { ids }, tx);
            await c.ExecuteAsync("delete from provisioning_certificates where pcid = @pcid", new { pcid }, tx);
            await AuditAsync(c, tx, audit);
            ended = ids;
        }, ct);
        return ended;
    }
}
