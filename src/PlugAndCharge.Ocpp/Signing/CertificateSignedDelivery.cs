using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Signing;

/// <summary>The last delivery of a signed certificate to a station, for operators and tests.</summary>
public sealed record CertificateDeliveryOutcome(string StationId, CertificateSigningUse Use, string? StationStatus, int Attempts, string? Failure, string? CertificateChain);

/// <summary>
/// Issues an accepted CSR and sends CertificateSigned after the SignCertificate response (OCPP 2.0.1 A02.FR.06),
/// retrying when the station does not answer or is not connected; a station's Rejected is final.
/// </summary>
public sealed class CertificateSignedDelivery(ICertificateSigningService signing, ConnectedStations stations, OcppOptions options, ILogger<CertificateSignedDelivery> log)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CertificateDeliveryOutcome> _last = new(StringComparer.Ordinal);

    /// <summary>Raised once per delivery, whatever its outcome.</summary>
    public event Action<CertificateDeliveryOutcome>? Delivered;

    public CertificateDeliveryOutcome? LastOutcome(string stationId) => _last.GetValueOrDefault(stationId);

    /// <param name="native16">A 1.6 security-extension SignCertificate: answer with 1.6's own CertificateSigned, not DataTransfer.</param>
    public async Task DeliverAsync(StationRecord station, CsrReview review, bool native16, CancellationToken ct = default)
    {
        string chain;
        try
        {
            chain = await signing.SignAsync(station, review, ct);
        }
        catch (Exception e) when (e is PlugAndCharge.Pki.PkiException or InvalidOperationException)
        {
            log.LogWarning("Station {StationId}: issuing the {Use} failed: {Error}", station.StationId, review.Use, e.Message);
            Finish(new CertificateDeliveryOutcome(station.StationId, review.Use, null, 0, "issuance failed: " + e.Message, null));
            return;
        }

        var request = new CertificateSignedRequest(chain, review.Use == CertificateSigningUse.Combined || native16 ? null : review.Use.ToString());
        string? lastFailure = null;
        for (var attempt = 1; attempt <= options.CertificateSignedAttempts; attempt++)
        {
            // The station may have reconnected to another instance since it sent SignCertificate: deliver wherever it is.
            var target = await LocateAsync(station.StationId, ct);
            if (target == null && await stations.WaitForAsync(station.StationId, options.CertificateSignedRetryDelay, ct) is { } arrived)
                target = new StationLocation(station.StationId, arrived.Version, arrived, null);
            if (target != null)
            {
                try
                {
                    var answer = await stations.CallAsync<CertificateSignedResponse>(target, "CertificateSigned", request, native16, options.CertificateSignedTimeout, ct);
                    log.LogInformation("Station {StationId}: CertificateSigned ({Use}) answered {Status} after {Attempts} attempt(s).", station.StationId, review.Use, answer.Status, attempt);
                    Finish(new CertificateDeliveryOutcome(station.StationId, review.Use, answer.Status, attempt, null, chain));
                    return;
                }
                catch (OcppCallFailedException e)
                {
                    lastFailure = e.Failure == OcppCallFailure.NotConnected ? "the station is not connected" : e.Message;
                    log.LogInformation("Station {StationId}: CertificateSigned attempt {Attempt} failed: {Error}", station.StationId, attempt, e.Message);
                }
            }
            else
            {
                lastFailure = "the station is not connected";
            }
            if (attempt < options.CertificateSignedAttempts) await Task.Delay(options.CertificateSignedRetryDelay, ct);
        }
        Finish(new CertificateDeliveryOutcome(station.StationId, review.Use, null, options.CertificateSignedAttempts, lastFailure, chain));
    }

    private async Task<StationLocation?> LocateAsync(string stationId, CancellationToken ct)
    {
        try
        {
            return await stations.LocateAsync(stationId, ct);
        }
        catch (System.Data.Common.DbException e)
        {
            // Without the database the station is reachable only here; the next attempt looks again.
            log.LogInformation("Station {StationId}: could not look up its connection: {Error}", stationId, e.Message);
            return stations.Find(stationId) is { } local ? new StationLocation(stationId, local.Version, local, null) : null;
        }
    }

    private void Finish(CertificateDeliveryOutcome outcome)
    {
        _last[outcome.StationId] = outcome;
        Delivered?.Invoke(outcome);
    }
}
