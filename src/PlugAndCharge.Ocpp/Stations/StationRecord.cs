namespace PlugAndCharge.Ocpp.Stations;

/// <summary>OCPP security profiles (OCPP 2.0.1 Part 2 A00.FR / 1.6 security whitepaper §2): 2 = TLS + HTTP Basic, 3 = mutual TLS.</summary>
public enum SecurityProfile
{
    /// <summary>TLS with a server certificate; the station proves itself with HTTP Basic auth (user = station id).</summary>
    TlsWithBasicAuth = 2,
    /// <summary>Mutual TLS; the client certificate's CN must be the station id.</summary>
    TlsWithClientCertificate = 3,
}

/// <summary>
/// A charging station allowed to connect, registered to a CPO. <see cref="PasswordHash"/> is the PBKDF2 record of
/// <see cref="StationPassword"/>, never the password.
/// </summary>
public sealed record StationRecord
{
    public required string StationId { get; init; }
    /// <summary>The CPO the station belongs to (a participant id of the host).</summary>
    public required string CpoId { get; init; }
    /// <summary>The CPO's organization name: CSRs must carry it as O (OCPP 2.0.1 A02.FR.04 / A03).</summary>
    public required string CpoOrganization { get; init; }
    public required SecurityProfile SecurityProfile { get; init; }
    public string? PasswordHash { get; init; }
    /// <summary>The serial number the station reported in its last BootNotification (CN of its ChargingStationCertificate).</summary>
    public string? SerialNumber { get; init; }
    public string? Vendor { get; init; }
    public string? Model { get; init; }
    public string? FirmwareVersion { get; init; }
    public DateTimeOffset? LastBootAt { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>
/// The stations this service knows. Storage implements it over PostgreSQL; <see cref="InMemoryStationStore"/> serves tests.
/// </summary>
public interface IStationStore
{
    Task<StationRecord?> FindAsync(string stationId, CancellationToken ct = default);
    /// <summary>Creates or replaces the station's registration.</summary>
    Task SaveAsync(StationRecord station, CancellationToken ct = default);
    /// <summary>Registers a new station; false (and nothing changed) when its id is already registered.</summary>
    Task<bool> AddAsync(StationRecord station, CancellationToken ct = default);
    Task<bool> DeleteAsync(string stationId, CancellationToken ct = default);
    Task<IReadOnlyList<StationRecord>> ListAsync(string? cpoId = null, CancellationToken ct = default);
    /// <summary>Records what a BootNotification said about the station; false when the station is unknown.</summary>
    Task<bool> RecordBootAsync(string stationId, StationBoot boot, CancellationToken ct = default);
}

public sealed record StationBoot(string? Vendor, string? Model, string? SerialNumber, string? FirmwareVersion, DateTimeOffset At);
