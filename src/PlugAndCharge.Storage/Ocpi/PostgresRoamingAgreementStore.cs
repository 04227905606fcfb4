using Dapper;
using Npgsql;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>
/// Roaming agreements on PostgreSQL (migration 0020): each create or change commits with its audit entry
/// ("ocpi.agreement.create" / "ocpi.agreement.update", subject ocpi-agreement/{id}); a change succeeds only on the row
/// version it read.
/// </summary>
public sealed class PostgresRoamingAgreementStore(NpgsqlDataSource db, TimeProvider? clock = null) : IRoamingAgreementStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    // A class with setters: Dapper reports text[] as System.Array to constructors, so positional records cannot take it.
    private sealed class Row
    {
        public string id { get; set; } = "";
        public string cpo_country_code { get; set; } = "";
        public string cpo_party_code { get; set; } = "";
        public string emsp_country_code { get; set; } = "";
        public string emsp_party_code { get; set; } = "";
        public string status { get; set; } = "";
        public DateTime? valid_from { get; set; }
        public DateTime? valid_to { get; set; }
        public string[] scopes { get; set; } = [];
        public DateTime updated_at { get; set; }
        public long row_version { get; set; }

        public RoamingAgreement ToModel() => new()
        {
            Id = id, Cpo = new RoamingParty(cpo_country_code, cpo_party_code), Emsp = new RoamingParty(emsp_country_code, emsp_party_code),
            Status = Enum.Parse<AgreementStatus>(status, ignoreCase: true), ValidFrom = Utc(valid_from), ValidTo = Utc(valid_to),
            // A scope a later version wrote and this one does not know is not granted.
            Scopes = scopes.Select(s => Enum.TryParse<AgreementScope>(s, out var v) ? v : (AgreementScope?)null).OfType<AgreementScope>().ToHashSet(),
            UpdatedAt = Utc(updated_at)!.Value, RowVersion = row_version,
        };
    }

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private const string Columns = "id, cpo_country_code, cpo_party_code, emsp_country_code, emsp_party_code, status, valid_from, valid_to, scopes, updated_at, row_version";

    public async Task<IReadOnlyList<RoamingAgreement>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return (await conn.QueryAsync<Row>(new CommandDefinition($"select {Columns} from ocpi_roaming_agreements order by created_at, id", cancellationToken: ct)))
            .Select(r => r.ToModel()).ToList();
    }

    public async Task<RoamingAgreement> CreateAsync(RoamingAgreement a, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Row row;
        try
        {
            row = await conn.QuerySingleAsync<Row>(new CommandDefinition($"""
                insert into ocpi_roaming_agreements (id, cpo_country_code, cpo_party_code, emsp_country_code, emsp_party_code, status, valid_from, valid_to, scopes, updated_at)
                values (@Id, @CpoCc, @CpoPid, @EmspCc, @EmspPid, @Status, @ValidFrom, @ValidTo, @Scopes, @UpdatedAt)
                returning {Columns}
                """, Parameters(a), tx, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new OcpiConflictException($"CPO {a.Cpo} and eMSP {a.Emsp} have an agreement already: change that one, or end it first.", e);
        }
        var stored = row.ToModel();
        PostgresAuditWriter.AppendAtCommit(tx, [Audit(actor, "ocpi.agreement.create", stored)]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return stored;
    }

    public async Task<RoamingAgreement> UpdateAsync(RoamingAgreement a, string actor, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Row? row;
        try
        {
            row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
                update ocpi_roaming_agreements set status = @Status, valid_from = @ValidFrom, valid_to = @ValidTo, scopes = @Scopes,
                    updated_at = @UpdatedAt, row_version = row_version + 1
                where id = @Id and row_version = @RowVersion
                returning {Columns}
                """, Parameters(a), tx, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new OcpiConflictException($"CPO {a.Cpo} and eMSP {a.Emsp} have another agreement that has not ended.", e);
        }
        if (row is null)
        {
            var exists = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from ocpi_roaming_agreements where id = @Id)", new { a.Id }, tx, cancellationToken: ct));
            throw exists
                ? new OcpiConcurrencyException($"Roaming agreement '{a.Id}' was changed by someone else: read it again.")
                : new KeyNotFoundException($"No roaming agreement '{a.Id}'.");
        }
        var stored = row.ToModel();
        PostgresAuditWriter.AppendAtCommit(tx, [Audit(actor, "ocpi.agreement.update", stored)]);
        await PostgresAuditWriter.CommitAsync(tx, _clock, ct);
        return stored;
    }

    private static object Parameters(RoamingAgreement a) => new
    {
        a.Id, CpoCc = a.Cpo.CountryCode, CpoPid = a.Cpo.PartyId, EmspCc = a.Emsp.CountryCode, EmspPid = a.Emsp.PartyId,
        Status = a.Status.ToString().ToLowerInvariant(), a.ValidFrom, a.ValidTo,
        Scopes = a.Scopes.Order().Select(s => s.ToString()).ToArray(), a.UpdatedAt, a.RowVersion,
    };

    private static AuditEvent Audit(string actor, string action, RoamingAgreement a) => new(actor, action, "ocpi-agreement/" + a.Id,
        new Dictionary<string, string>
        {
            ["cpo"] = a.Cpo.ToString(), ["emsp"] = a.Emsp.ToString(), ["status"] = a.Status.ToString().ToLowerInvariant(),
            ["scopes"] = string.Join(",", a.Scopes.Order()), ["valid_from"] = a.ValidFrom?.ToString("O") ?? "", ["valid_to"] = a.ValidTo?.ToString("O") ?? "",
            ["row_version"] = a.RowVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
}
