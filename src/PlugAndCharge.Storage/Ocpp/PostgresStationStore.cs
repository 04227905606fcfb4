using Dapper;
using Npgsql;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Storage.Ocpp;

/// <summary>
/// The OCPP stations on PostgreSQL (table ocpp_stations, migration 0005; reported serials and bound client certificates,
/// 0011; password origin and the previous password of a rotation, 0017).
/// </summary>
public sealed class PostgresStationStore(NpgsqlDataSource db) : IStationStore
{
    private const string Columns = """
        station_id as StationId, cpo_id as CpoId, cpo_organization as CpoOrganization, security_profile as SecurityProfile,
        password_hash as PasswordHash, serial_number as SerialNumber, reported_serial_number as ReportedSerialNumber, vendor as Vendor, model as Model,
        firmware_version as FirmwareVersion, last_boot_at as LastBootAt, registered_at as RegisteredAt,
        disabled_at as DisabledAt, disabled_reason as DisabledReason, password_chosen_by as PasswordChosenBy,
        previous_password_hash as PreviousPasswordHash, previous_password_until as PreviousPasswordUntil
        """;

    private sealed class Row
    {
        public string StationId { get; init; } = "";
        public string CpoId { get; init; } = "";
        public string CpoOrganization { get; init; } = "";
        public short SecurityProfile { get; init; }
        public string? PasswordHash { get; init; }
        public string? SerialNumber { get; init; }
        public string? ReportedSerialNumber { get; init; }
        public string? Vendor { get; init; }
        public string? Model { get; init; }
        public string? FirmwareVersion { get; init; }
        public DateTime? LastBootAt { get; init; }
        public DateTime RegisteredAt { get; init; }
        public DateTime? DisabledAt { get; init; }
        public string? DisabledReason { get; init; }
        public string? PasswordChosenBy { get; init; }
        public string? PreviousPasswordHash { get; init; }
        public DateTime? PreviousPasswordUntil { get; init; }

        public StationRecord ToRecord() => new()
        {
            StationId = StationId, CpoId = CpoId, CpoOrganization = CpoOrganization, SecurityProfile = (SecurityProfile)SecurityProfile,
            PasswordHash = PasswordHash, SerialNumber = SerialNumber, ReportedSerialNumber = ReportedSerialNumber, Vendor = Vendor, Model = Model, FirmwareVersion = FirmwareVersion,
            LastBootAt = LastBootAt is { } b ? new DateTimeOffset(DateTime.SpecifyKind(b, DateTimeKind.Utc)) : null,
            RegisteredAt = new DateTimeOffset(DateTime.SpecifyKind(RegisteredAt, DateTimeKind.Utc)),
            DisabledAt = DisabledAt is { } d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null, DisabledReason = DisabledReason,
            PasswordChosenBy = PasswordChosenBy switch { "service" => StationPasswordOrigin.Service, "operator" => StationPasswordOrigin.Operator, _ => null },
            PreviousPasswordHash = PreviousPasswordHash,
            PreviousPasswordUntil = PreviousPasswordUntil is { } p ? new DateTimeOffset(DateTime.SpecifyKind(p, DateTimeKind.Utc)) : null,
        };
    }

    private static string? Origin(StationPasswordOrigin? origin) => origin switch
    {
        StationPasswordOrigin.Service => "service",
        StationPasswordOrigin.Operator => "operator",
        _ => null,
    };

    public async Task<StationRecord?> FindAsync(string stationId, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"select {Columns} from ocpp_stations where station_id = @stationId", new { stationId }, cancellationToken: ct));
        return row?.ToRecord();
    }

    private const string Insert = """
        insert into ocpp_stations (station_id, cpo_id, cpo_organization, security_profile, password_hash, password_chosen_by, previous_password_hash,
                                   previous_password_until, serial_number, reported_serial_number, vendor, model, firmware_version, last_boot_at, registered_at)
        values (@StationId, @CpoId, @CpoOrganization, @Profile, @PasswordHash, @PasswordChosenBy, @PreviousPasswordHash, @PreviousPasswordUntil,
                @SerialNumber, @ReportedSerialNumber, @Vendor, @Model, @FirmwareVersion, @LastBootAt, coalesce(@RegisteredAt::timestamptz, now()))
        """;

    public async Task SaveAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        await using var conn = await db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(Insert + "\n" + """
            on conflict (station_id) do update set
                cpo_id = excluded.cpo_id, cpo_organization = excluded.cpo_organization, security_profile = excluded.security_profile,
                password_hash = excluded.password_hash, password_chosen_by = excluded.password_chosen_by,
                previous_password_hash = excluded.previous_password_hash, previous_password_until = excluded.previous_password_until,
                serial_number = excluded.serial_number,
                reported_serial_number = excluded.reported_serial_number, vendor = excluded.vendor, model = excluded.model,
                firmware_version = excluded.firmware_version, last_boot_at = excluded.last_boot_at
            """, Parameters(station), cancellationToken: ct));
    }

    public async Task<bool> AddAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(Insert + " on conflict (station_id) do nothing", Parameters(station), cancellationToken: ct)) > 0;
    }

    private static object Parameters(StationRecord station) => new
    {
        station.StationId, station.CpoId, station.CpoOrganization, Profile = (short)station.SecurityProfile, station.PasswordHash,
        PasswordChosenBy = Origin(station.PasswordChosenBy), station.PreviousPasswordHash, PreviousPasswordUntil = station.PreviousPasswordUntil?.ToUniversalTime(),
        station.SerialNumber, station.ReportedSerialNumber, station.Vendor, station.Model, station.FirmwareVersion, station.LastBootAt,
        RegisteredAt = station.RegisteredAt == default ? (DateTimeOffset?)null : station.RegisteredAt,
    };

    public async Task<bool> DeleteAsync(string stationId, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("delete from ocpp_stations where station_id = @stationId", new { stationId }, cancellationToken: ct)) > 0;
    }

    public async Task<StationRecord?> DisableAsync(string stationId, DateTimeOffset at, string? reason, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        // Disabling again keeps the first moment and takes the new reason.
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            update ocpp_stations set disabled_at = coalesce(disabled_at, @at), disabled_reason = @reason
             where station_id = @stationId
            returning {Columns}
            """, new { stationId, at = at.ToUniversalTime(), reason }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<StationRecord?> EnableAsync(string stationId, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            update ocpp_stations set disabled_at = null, disabled_reason = null where station_id = @stationId
            returning {Columns}
            """, new { stationId }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<StationRecord>> ListAsync(string? cpoId = null, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from ocpp_stations where @cpoId::text is null or cpo_id = @cpoId order by station_id", new { cpoId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<StationRecord?> RecordBootAsync(string stationId, StationBoot boot, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        // The update locks the row, so what it returns is the newest committed state (a disabling included): the boot
        // needs no second read.
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            update ocpp_stations
               set vendor = @Vendor, model = @Model, reported_serial_number = coalesce(@SerialNumber, reported_serial_number),
                   firmware_version = @FirmwareVersion, last_boot_at = @At
             where station_id = @stationId
            returning {Columns}
            """, new { stationId, boot.Vendor, boot.Model, boot.SerialNumber, boot.FirmwareVersion, boot.At }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<bool> ReplacePasswordHashAsync(string stationId, string expected, string replacement, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(
            "update ocpp_stations set password_hash = @replacement where station_id = @stationId and password_hash = @expected",
            new { stationId, expected, replacement }, cancellationToken: ct)) > 0;
    }

    public async Task<bool> ForgetPreviousPasswordAsync(string stationId, string current, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ocpp_stations set previous_password_hash = null, previous_password_until = null
             where station_id = @stationId and password_hash = @current and previous_password_hash is not null
            """, new { stationId, current }, cancellationToken: ct)) > 0;
    }

    public async Task<bool> RotatePasswordAsync(string stationId, string replacement, DateTimeOffset previousUntil, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        // The record replaced is the one in the row now (not one read earlier): a login's upgrade racing this is kept as the previous one.
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ocpp_stations
               set previous_password_hash = password_hash, previous_password_until = @previousUntil,
                   password_hash = @replacement, password_chosen_by = 'service'
             where station_id = @stationId and security_profile = 2
            """, new { stationId, replacement, previousUntil = previousUntil.ToUniversalTime() }, cancellationToken: ct)) > 0;
    }

    public async Task<bool> AddClientCertificateAsync(StationClientCertificate certificate, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        // Only while the station exists (the foreign key would throw instead of saying no).
        return await conn.ExecuteAsync(new CommandDefinition("""
            insert into ocpp_station_certificates (station_id, sha256, cpo_id, origin, issuer_id, serial, not_after)
            select @StationId, @Sha256, @CpoId, @Origin, @IssuerId, @Serial, @NotAfter
             where exists (select 1 from ocpp_stations where station_id = @StationId)
            on conflict (station_id, sha256) do update set cpo_id = excluded.cpo_id, origin = excluded.origin,
                issuer_id = excluded.issuer_id, serial = excluded.serial, not_after = excluded.not_after
            """, new
        {
            certificate.StationId, certificate.Sha256, certificate.CpoId, Origin = certificate.Origin == StationCertificateOrigin.Issued ? "issued" : "registered",
            certificate.IssuerId, certificate.Serial, NotAfter = certificate.NotAfter.ToUniversalTime(),
        }, cancellationToken: ct)) > 0;
    }

    private sealed class CertificateRow
    {
        public string StationId { get; init; } = "";
        public string Sha256 { get; init; } = "";
        public string CpoId { get; init; } = "";
        public string Origin { get; init; } = "";
        public string? IssuerId { get; init; }
        public string? Serial { get; init; }
        public DateTime NotAfter { get; init; }
        public DateTime CreatedAt { get; init; }
    }

    public async Task<StationClientCertificate?> FindClientCertificateAsync(string stationId, string sha256, CancellationToken ct = default)
    {
        await using var conn = await db.ConnectAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<CertificateRow>(new CommandDefinition("""
            select station_id as StationId, sha256 as Sha256, cpo_id as CpoId, origin as Origin, issuer_id as IssuerId, serial as Serial,
                   not_after as NotAfter, created_at as CreatedAt
              from ocpp_station_certificates where station_id = @stationId and sha256 = @sha256
            """, new { stationId, sha256 }, cancellationToken: ct));
        return row == null ? null : new StationClientCertificate
        {
            StationId = row.StationId, Sha256 = row.Sha256, CpoId = row.CpoId,
            Origin = row.Origin == "issued" ? StationCertificateOrigin.Issued : StationCertificateOrigin.Registered,
            IssuerId = row.IssuerId, Serial = row.Serial,
            NotAfter = new DateTimeOffset(DateTime.SpecifyKind(row.NotAfter, DateTimeKind.Utc)),
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)),
        };
    }
}
