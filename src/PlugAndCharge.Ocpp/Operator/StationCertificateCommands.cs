using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Ocpp.Operator;

/// <summary>Why an operator command could not be carried out.</summary>
public enum StationCommandFailure
{
    /// <summary>The station is connected to no instance of the service.</summary>
    Offline,
    /// <summary>The station answered with a CALLERROR, refused the DataTransfer, or answered against the schema.</summary>
    Refused,
    /// <summary>The station did not answer in time.</summary>
    TimedOut,
    /// <summary>The station went away before it answered.</summary>
    Disconnected,
    /// <summary>Where the station is connected could not be looked up (the database is out of reach).</summary>
    Unavailable,
}

/// <summary>An operator command could not be carried out (station offline, refused the call, answered badly, timed out).</summary>
public sealed class StationCommandException(string message, Exception? inner = null, StationCommandFailure failure = StationCommandFailure.Refused) : Exception(message, inner)
{
    public StationCommandFailure Failure { get; } = failure;
}

/// <summary>
/// What an operator asks of a connected station's certificate store (OCPP 2.0.1 M03-M05, F06; 1.6 through
/// DataTransfer): install a root, list and delete installed certificates, and trigger a new V2G certificate. Each call
/// waits for the station's answer and returns it, whichever instance of the service holds the station's connection.
/// The host maps these to REST.
/// </summary>
public sealed class StationCertificateCommands(ConnectedStations stations)
{
    /// <summary>Root kinds InstallCertificate accepts (OCPP InstallCertificateUseEnumType; OEM roots since 2.1).</summary>
    public static readonly IReadOnlySet<string> RootTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "V2GRootCertificate", "MORootCertificate", "CSMSRootCertificate", "ManufacturerRootCertificate", "OEMRootCertificate",
    };

    /// <summary>Installs a root (PEM). Only a single self-signed root belongs there (docs/domain.md §6).</summary>
    public async Task<InstallCertificateResponse> InstallCertificateAsync(string stationId, string certificateType, string rootPem, CancellationToken ct = default)
    {
        if (!RootTypes.Contains(certificateType)) throw new ArgumentException($"Unknown certificate type {certificateType}.", nameof(certificateType));
        // The input is checked before the station is looked up: a bad root is a bad request whether or not it is online.
        EnsureSelfSignedRoot(rootPem);
        var station = await LocateAsync(stationId, ct);
        if (certificateType == "OEMRootCertificate" && station.Version != OcppVersion.V21)
            throw new ArgumentException("OEM roots can be installed over OCPP 2.1 only.", nameof(certificateType));
        return await Call<InstallCertificateResponse>(station, "InstallCertificate", new InstallCertificateRequest(certificateType, rootPem.Trim() + "\n"), ct);
    }

    public async Task<GetInstalledCertificateIdsResponse> GetInstalledCertificateIdsAsync(string stationId, IReadOnlyList<string>? certificateTypes = null, CancellationToken ct = default)
    {
        var station = await LocateAsync(stationId, ct);
        if (certificateTypes?.Contains("OEMRootCertificate") == true && station.Version != OcppVersion.V21)
            throw new ArgumentException("OEMRootCertificate exists in OCPP 2.1 only; the station speaks " + station.Version.SubProtocol() + ".", nameof(certificateTypes));
        return await Call<GetInstalledCertificateIdsResponse>(station, "GetInstalledCertificateIds", new GetInstalledCertificateIdsRequest(certificateTypes is { Count: > 0 } ? certificateTypes : null), ct);
    }

    public async Task<DeleteCertificateResponse> DeleteCertificateAsync(string stationId, CertificateHashData certificate, CancellationToken ct = default) =>
        await Call<DeleteCertificateResponse>(await LocateAsync(stationId, ct), "DeleteCertificate", new DeleteCertificateRequest(certificate), ct);

    /// <summary>Asks the station to send SignCertificate for a new V2G (SECC) certificate (TriggerMessage SignV2GCertificate).</summary>
    public async Task<TriggerMessageResponse> TriggerSignV2GCertificateAsync(string stationId, CancellationToken ct = default) =>
        await Call<TriggerMessageResponse>(await LocateAsync(stationId, ct), "TriggerMessage", new TriggerMessageRequest("SignV2GCertificate"), ct);

    private Task<StationLocation> LocateAsync(string stationId, CancellationToken ct) => stations.LocateForCommandAsync(stationId, ct);

    private Task<T> Call<T>(StationLocation station, string action, object payload, CancellationToken ct) => stations.CommandAsync<T>(station, action, payload, ct: ct);

    private static void EnsureSelfSignedRoot(string pem)
    {
        IReadOnlyList<Org.BouncyCastle.X509.X509Certificate> certs;
        try
        {
            certs = CertificateReader.ReadCertificates(System.Text.Encoding.ASCII.GetBytes(pem));
        }
        catch (FormatException e)
        {
            throw new ArgumentException("The certificate is not PEM: " + e.Message, nameof(pem));
        }
        if (certs.Count != 1) throw new ArgumentException("Give exactly one root certificate.", nameof(pem));
        var root = certs[0];
        bool signedBySelf;
        try
        {
            root.Verify(root.GetPublicKey());
            signedBySelf = root.IssuerDN.Equivalent(root.SubjectDN, true);
        }
        catch (Exception e) when (e is Org.BouncyCastle.Security.InvalidKeyException or Org.BouncyCastle.Security.Certificates.CertificateException or Org.BouncyCastle.Security.SignatureException)
        {
            signedBySelf = false;
        }
        if (!signedBySelf || root.GetBasicConstraints() < 0) throw new ArgumentException("Only a self-signed CA (root) certificate can be installed.", nameof(pem));
    }
}
