using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>Why a connection was refused, as the HTTP status the upgrade gets.</summary>
public sealed record StationAuthentication(bool Succeeded, int HttpStatus, string Reason)
{
    public static StationAuthentication Ok { get; } = new(true, 101, "");
    public static StationAuthentication Refuse(int status, string reason) => new(false, status, reason);
}

/// <summary>
/// Checks a station's WebSocket upgrade by its registered security profile (OCPP 2.0.1 Part 2 A00.FR.2xx/3xx/4xx):
/// profile 2 = TLS + HTTP Basic with user = station id and the password checked against its record (keyed hash, or
/// PBKDF2 for an operator-chosen or not yet upgraded one, <see cref="StationPasswords"/>), unless the station or the
/// source address has used up its failed logins (429, before anything is hashed); a successful login upgrades a PBKDF2
/// record the operator did not choose to the keyed hash, and a login with a rotated password ends the old one's window;
/// profile 3 = mutual TLS with a client certificate whose subject CN is the station id of the URL, that is bound to
/// this station and its CPO (issued to it through SignCertificate or registered by its CPO: a look-alike from our own
/// CPO Sub-CA is not enough), that is a client certificate (EKU clientAuth), chains to our V2G roots (or a configured
/// station root) and is not revoked. The host terminates TLS and asks for the client certificate; this reads
/// <see cref="ConnectionInfo.ClientCertificate"/>. Nothing here touches a live connection: only an authenticated
/// station replaces its own.
/// </summary>
public sealed class StationAuthenticator(ChainValidator validator, OurCertificateAuthorities cas, OwnRevocationRecords ownRecords, IStationStore stations,
    StationThrottle throttle, StationPasswords passwords, TimeProvider clock, ILogger<StationAuthenticator>? log = null)
{
    private readonly ILogger _log = (ILogger?)log ?? NullLogger.Instance;

    public async Task<StationAuthentication> AuthenticateAsync(HttpContext http, StationRecord station, CancellationToken ct = default)
    {
        if (!http.Request.IsHttps) return StationAuthentication.Refuse(StatusCodes.Status403Forbidden, "Security profiles 2 and 3 require TLS.");
        return station.SecurityProfile switch
        {
            SecurityProfile.TlsWithBasicAuth => await CheckBasicThrottledAsync(http, station),
            SecurityProfile.TlsWithClientCertificate => await CheckClientCertificateAsync(http, station, ct),
            _ => StationAuthentication.Refuse(StatusCodes.Status403Forbidden, "Unsupported security profile."),
        };
    }

    private async Task<StationAuthentication> CheckBasicThrottledAsync(HttpContext http, StationRecord station)
    {
        var source = http.Connection.RemoteIpAddress;
        if (!throttle.MayTryLogin(station.StationId, source))
            return StationAuthentication.Refuse(StatusCodes.Status429TooManyRequests, "Too many failed logins for this station or from this address; try again later.");
        var result = await CheckBasicAsync(http, station);
        if (!result.Succeeded) throttle.LoginFailed(station.StationId, source);
        return result;
    }

    private async Task<StationAuthentication> CheckBasicAsync(HttpContext http, StationRecord station)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "HTTP Basic authentication required.");
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(header[6..].Trim());
        }
        catch (FormatException)
        {
            return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "Malformed Basic credentials.");
        }
        var colon = Array.IndexOf(decoded, (byte)':');
        if (colon < 0) return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "Malformed Basic credentials.");
        // The user must be the station id of the URL (OCPP 2.0.1 A00.FR.203).
        if (Encoding.UTF8.GetString(decoded, 0, colon) != station.StationId)
            return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "The Basic user is not the station id.");
        var match = passwords.Match(station, decoded.AsSpan(colon + 1));
        var upgraded = match == StationPasswordMatch.Current && StationPasswords.NeedsUpgrade(station)
            ? passwords.RecordOfGenerated(station.StationId, decoded.AsSpan(colon + 1)) : null;
        Array.Clear(decoded);
        if (match == StationPasswordMatch.None) return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "Wrong station password.");
        if (match == StationPasswordMatch.Current && (upgraded != null || station.PreviousPasswordHash != null))
            await RecordLoginAsync(station, upgraded, http.RequestAborted);
        return StationAuthentication.Ok;
    }

    /// <summary>
    /// After a login with the current password: its PBKDF2 record becomes the keyed hash (only if it is still the
    /// record read, so of two instances one writes), and a rotated-out password stops working. Neither is needed for
    /// this login, so a database that cannot take them now does not refuse the station; the next login tries again.
    /// </summary>
    private async Task RecordLoginAsync(StationRecord station, string? upgraded, CancellationToken ct)
    {
        try
        {
            if (upgraded != null) await stations.ReplacePasswordHashAsync(station.StationId, station.PasswordHash!, upgraded, ct);
            if (station.PreviousPasswordHash != null) await stations.ForgetPreviousPasswordAsync(station.StationId, upgraded ?? station.PasswordHash!, ct);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            _log.LogWarning("Station {StationId}: its password record could not be updated after the login: {Error}", station.StationId, e.Message);
        }
    }

    private async Task<StationAuthentication> CheckClientCertificateAsync(HttpContext http, StationRecord station, CancellationToken ct)
    {
        var presented = http.Connection.ClientCertificate ?? await http.Connection.GetClientCertificateAsync(ct);
        if (presented == null) return StationAuthentication.Refuse(StatusCodes.Status401Unauthorized, "A client certificate is required (security profile 3).");
        var cn = presented.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!string.Equals(cn, station.StationId, StringComparison.Ordinal))
            return StationAuthentication.Refuse(StatusCodes.Status403Forbidden, "The client certificate's CN is not the station id.");

        // Bound to this station under its current CPO (issue 21): neither a certificate of another station nor one
        // merely issued with this CN logs it in.
        var binding = await stations.FindClientCertificateAsync(station.StationId, StationClientCertificate.Fingerprint(presented.RawData), ct);
        if (binding == null || binding.CpoId != station.CpoId)
            return StationAuthentication.Refuse(StatusCodes.Status403Forbidden, "The client certificate was not issued to or registered for this station.");

        var leaf = CertificateReader.ReadCertificate(presented.RawData);
        if (leaf.GetExtendedKeyUsage()?.Contains(Org.BouncyCastle.Asn1.X509.KeyPurposeID.id_kp_clientAuth) != true)
            return StationAuthentication.Refuse(StatusCodes.Status403Forbidden, "The client certificate is not for client authentication (EKU clientAuth).");
        var snapshot = await cas.GetAsync(ct);
        var result = validator.Validate(new ChainValidationRequest
        {
            Leaf = leaf,
            Intermediates = snapshot.SubCaCertificates,
            TrustAnchors = snapshot.StationRoots,
            At = clock.GetUtcNow(),
            Revocation = await ownRecords.ForAsync([leaf], snapshot, ct),
        });
        return result.IsValid
            ? StationAuthentication.Ok
            : StationAuthentication.Refuse(StatusCodes.Status403Forbidden, $"The client certificate is not acceptable ({result.Reason}).");
    }
}
