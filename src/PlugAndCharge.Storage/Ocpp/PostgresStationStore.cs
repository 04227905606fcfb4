using Dapper;
using Npgsql;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Storage.Ocpp;

/// <summary>The OCPP stations on PostgreSQL (table ocpp_stations, migration 0005).</summary>
public sealed class PostgresStationStore(NpgsqlDataSource db) : IStationStore
{
    private const string Columns = """
        station_id as StationId, cpo_id as CpoId, cpo_organization as CpoOrganization, security_profile as SecurityProfile,
        password_hash as PasswordHash, serial_number as SerialNumber, vendor as Vendor, model as Model,
        firmware_version as FirmwareVersion, last_boot_at as LastBootAt, registered_at as RegisteredAt
        """;

    private sealed class Row
    {
        public string StationId { get; init; } = "";
        public string CpoId { get; init; } = "";
        public string CpoOrganization { get; init; } = "";
        public short SecurityProfile { get; init; }
        public string? PasswordHash { get; init; }
        public string? SerialNumber { get; init; }
        public string? Vendor { get; init; }
        public string? Model { get; init; }
        public string? FirmwareVersion { get; init; }
        public DateTime? LastBootAt { get; init; }
        public DateTime RegisteredAt { get; init; }

        public StationRecord ToRecord() => new()
        {
            StationId = StationId, CpoId = CpoId, CpoOrganization = CpoOrganization, SecurityProfile = (SecurityProfile)SecurityProfile,
            PasswordHash = PasswordHash, SerialNumber = SerialNumber, Vendor = Vendor, Model = Model, FirmwareVersion = FirmwareVersion,
            LastBootAt = LastBootAt is { } b ? new DateTimeOffset(DateTime.SpecifyKind(b, DateTimeKind.Utc)) : null,
            RegisteredAt = new DateTimeOffset(DateTime.SpecifyKind(RegisteredAt, DateTimeKind.Utc)),
        };
    }

    public async Task<StationRecord?> FindAsync(string stationId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"select {Columns} from ocpp_stations where station_id = @stationId", new { stationId }, cancellationToken: ct));
        return row?.ToRecord();
    }

    private const string Insert = """
        insert into ocpp_stations (station_id, cpo_id, cpo_organization, security_profile, password_hash, serial_number, vendor, model,
                                   firmware_version, last_boot_at, registered_at)
        values (@StationId, @CpoId, @CpoOrganization, @Profile, @PasswordHash, @SerialNumber, @Vendor, @Model, @FirmwareVersion, @LastBootAt, coalesce(@RegisteredAt::timestamptz, now()))
        """;

    public async Task SaveAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(Insert + "\n" + """
            on conflict (station_id) do update set
                cpo_id = excluded.cpo_id, cpo_organization = excluded.cpo_organization, security_profile = excluded.security_profile,
                password_hash = excluded.password_hash, serial_number = excluded.serial_number, vendor = excluded.vendor, model = excluded.model,
                firmware_version = excluded.firmware_version, last_boot_at = excluded.last_boot_at
            """, Parameters(station), cancellationToken: ct));
    }

    public async Task<bool> AddAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(Insert + " on conflict (station_id) do nothing", Parameters(station), cancellationToken: ct)) > 0;
    }

    private static object Parameters(StationRecord station) => new
    {
        station.StationId, station.CpoId, station.CpoOrganization, Profile = (short)station.SecurityProfile, station.PasswordHash,
        station.SerialNumber, station.Vendor, station.Model, station.FirmwareVersion, station.LastBootAt,
        RegisteredAt = station.RegisteredAt == default ? (DateTimeOffset?)null : station.RegisteredAt,
    };

    public async Task<bool> DeleteAsync(string stationId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("delete from ocpp_stations where station_id = @stationId", new { stationId }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<StationRecord>> ListAsync(string? cpoId = null, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from ocpp_stations where @cpoId::text is null or cpo_id = @cpoId order by station_id", new { cpoId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> RecordBootAsync(string stationId, StationBoot boot, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ocpp_stations
               set vendor = @Vendor, model = @Model, serial_number = coalesce(@SerialNumber, serial_number),
                   firmware_version = @FirmwareVersion, last_boot_at = @At
             where station_id = @stationId
            """, new { stationId, boot.Vendor, boot.Model, boot.SerialNumber, boot.FirmwareVersion, boot.At }, cancellationToken: ct)) > 0;
    }
}
