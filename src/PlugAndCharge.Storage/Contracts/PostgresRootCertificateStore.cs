using Dapper;
using Npgsql;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>The root certificate pool on PostgreSQL; each change commits with its audit entry.</summary>
public sealed class PostgresRootCertificateStore : PostgresStore, IRootCertificateStore
{
    public PostgresRootCertificateStore(NpgsqlDataSource db, TimeProvider? clock = null) : base(db, clock) { }

    private sealed class RootRow
    {
        public Guid id { get; set; }
        public string root_type { get; set; } = null!;
        public byte[] der { get; set; } = null!;
        public string fingerprint { get; set; } = null!;
        public string distinguished_name { get; set; } = null!;
        public string common_name { get; set; } = null!;
        public string serial_number { get; set; } = null!;
        public string key_identifier { get; set; } = null!;
        public DateTime valid_from { get; set; }
        public DateTime valid_to { get; set; }
        public string standard { get; set; } = null!;
        public string signature_algorithm { get; set; } = null!;
        public string? organization_name { get; set; }
        public string? owner_id { get; set; }
        public string[] wmis { get; set; } = null!;
        public DateTime added_at { get; set; }

        public RootCertificate ToRecord() => new()
        {
            Id = id, Type = Enum.Parse<RootType>(root_type), Der = der, Fingerprint = fingerprint, DistinguishedName = distinguished_name, CommonName = common_name,
            SerialNumber = serial_number, KeyIdentifier = key_identifier, ValidFrom = Utc(valid_from), ValidTo = Utc(valid_to), Standard = Enum.Parse<IsoStandard>(standard),
            SignatureAlgorithm = signature_algorithm, OrganizationName = organization_name, OwnerId = owner_id, Wmis = wmis, AddedAt = Utc(added_at),
        };
    }

    private const string RootColumns = "id, root_type, der, fingerprint, distinguished_name, common_name, serial_number, key_identifier, valid_from, valid_to, standard, signature_algorithm, organization_name, owner_id, wmis, added_at";

    public Task AddRootAsync(RootCertificate r, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            try
            {
                await c.ExecuteAsync($"insert into root_certificates({RootColumns}) values (@Id, @Type, @Der, @Fingerprint, @DistinguishedName, @CommonName, @SerialNumber, @KeyIdentifier, @ValidFrom, @ValidTo, @Standard, @SignatureAlgorithm, @OrganizationName, @OwnerId, @Wmis, @AddedAt)",
                    new
                    {
                        r.Id, Type = r.Type.ToString(), r.Der, r.Fingerprint, r.DistinguishedName, r.CommonName, r.SerialNumber, r.KeyIdentifier, ValidFrom = r.ValidFrom.UtcDateTime, ValidTo = r.ValidTo.UtcDateTime,
                        Standard = r.Standard.ToString(), r.SignatureAlgorithm, r.OrganizationName, r.OwnerId, Wmis = r.Wmis.ToArray(), AddedAt = r.AddedAt.UtcDateTime,
                    }, tx);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ContractException(ContractError.AlreadyExists, $"The root {r.Fingerprint} is registered already.", e);
            }
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<RootCertificate?> GetRootAsync(Guid id, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<RootRow>($"select {RootColumns} from root_certificates where id = @id", new { id }))?.ToRecord();
    }

    public async Task<IReadOnlyList<RootCertificate>> ListRootsAsync(CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<RootRow>($"select {RootColumns} from root_certificates order by added_at, id")).Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> DeleteRootAsync(Guid id, AuditEvent audit, CancellationToken ct = default)
    {
        var deleted = false;
        await InTransactionAsync(async (c, tx) =>
        {
            deleted = await c.ExecuteAsync("delete from root_certificates where id = @id", new { id }, tx) == 1;
            if (deleted) await AuditAsync(c, tx, audit);
        }, ct);
        return deleted;
    }
}
