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
/// A charging station allowed to connect, registered to a CPO. <see cref="PasswordHash"/> is a password record of
/// <see cref="StationPasswords"/> (keyed hash or PBKDF2), never the password.
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
    /// <summary>Who chose the password (profile 2); null for a station registered before this was recorded.</summary>
    public StationPasswordOrigin? PasswordChosenBy { get; init; }
    /// <summary>
    /// The record a rotation replaced: still accepted until <see cref="PreviousPasswordUntil"/> or the first login with
    /// the new password, whichever comes first (the station switches when it reconnects, OCPP 2.0.1 A01).
    /// </summary>
    public string? PreviousPasswordHash { get; init; }
    public DateTimeOffset? PreviousPasswordUntil { get; init; }
    /// <summary>
    /// The serial number the CPO registered: besides the station id the only CN a ChargingStationCertificate may carry
    /// (OCPP 2.0.1 A02.FR.04). What the station announces at boot never takes its place (issue 21: a station could
    /// otherwise name itself after anything, a victim's EMAID included).
    /// </summary>
    public string? SerialNumber { get; init; }
    /// <summary>The serial number the station announced in its last BootNotification: informational, authorises nothing.</summary>
    public string? ReportedSerialNumber { get; init; }
    public string? Vendor { get; init; }
    public string? Model { get; init; }
    public string? FirmwareVersion { get; init; }
    public DateTimeOffset? LastBootAt { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
    /// <summary>Since when the station is disabled (its CPO or the hub operator): it may not log in until enabled; null = enabled.</summary>
    public DateTimeOffset? DisabledAt { get; init; }
    /// <summary>The optional note given when it was disabled.</summary>
    public string? DisabledReason { get; init; }

    public bool Disabled => DisabledAt != null;
}

/// <summary>
/// The stations this service knows. Storage implements it over PostgreSQL.
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
    /// <summary>
    /// Disables the station (its registration, password record and certificate bindings are kept); disabling it again
    /// keeps the first <paramref name="at"/> and takes the new reason. The station as it now is, or null when unknown.
    /// </summary>
    Task<StationRecord?> DisableAsync(string stationId, DateTimeOffset at, string? reason, CancellationToken ct = default);
    /// <summary>Lets a disabled station log in again; the station as it now is, or null when unknown.</summary>
    Task<StationRecord?> EnableAsync(string stationId, CancellationToken ct = default);
    /// <summary>
    /// Records what a BootNotification said about the station (its serial only as reported); the station as it now is
    /// (a disabling committed before it included), or null when unknown.
    /// </summary>
    Task<StationRecord?> RecordBootAsync(string stationId, StationBoot boot, CancellationToken ct = default);
    /// <summary>
    /// Replaces the current password record only if it is still <paramref name="expected"/> (the upgrade of a PBKDF2
    /// record at login: of two instances racing, one wins and the other changes nothing); false when it was not.
    /// </summary>
    Task<bool> ReplacePasswordHashAsync(string stationId, string expected, string replacement, CancellationToken ct = default);
    /// <summary>Drops the previous record once the station has logged in with <paramref name="current"/>; false when there was none to drop.</summary>
    Task<bool> ForgetPreviousPasswordAsync(string stationId, string current, CancellationToken ct = default);
    /// <summary>
    /// A rotated password: <paramref name="replacement"/> becomes current (service-chosen), the record it replaces stays
    /// valid until <paramref name="previousUntil"/>. False when the station is unknown or not on security profile 2.
    /// </summary>
    Task<bool> RotatePasswordAsync(string stationId, string replacement, DateTimeOffset previousUntil, CancellationToken ct = default);
    /// <summary>Binds a client certificate to a station (security profile 3 login); false when the station is unknown.</summary>
    Task<bool> AddClientCertificateAsync(StationClientCertificate certificate, CancellationToken ct = default);
    /// <summary>The binding of the certificate with this SHA-256 (lower-case hex of the DER) to the station, if any.</summary>
    Task<StationClientCertificate?> FindClientCertificateAsync(string stationId, string sha256, CancellationToken ct = default);
}

/// <summary>How a certificate came to be bound to a station.</summary>
public enum StationCertificateOrigin
{
    /// <summary>We issued it to the station through SignCertificate (ChargingStationCertificate).</summary>
    Issued,
    /// <summary>The station's CPO (or the hub operator) registered it with the station.</summary>
    Registered,
}

/// <summary>
/// A client certificate a security profile 3 station may log in with, bound to the station and the CPO it belonged to
/// when bound. Only bound certificates log a station in: a certificate from our CPO Sub-CA whose CN merely equals the
/// station id (issued to another station, or outside OCPP) does not.
/// </summary>
public sealed record StationClientCertificate
{
    public required string StationId { get; init; }
    /// <summary>Lower-case hex SHA-256 of the certificate's DER.</summary>
    public required string Sha256 { get; init; }
    public required string CpoId { get; init; }
    public required StationCertificateOrigin Origin { get; init; }
    /// <summary>For certificates we issued: the issuing CA and the serial (hex).</summary>
    public string? IssuerId { get; init; }
    public string? Serial { get; init; }
    public required DateTimeOffset NotAfter { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public static string Fingerprint(ReadOnlySpan<byte> der) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(der));
}

public sealed record StationBoot(string? Vendor, string? Model, string? SerialNumber, string? FirmwareVersion, DateTimeOffset At);
