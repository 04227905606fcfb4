using System.Text.Json;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Signing;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// SignCertificate (OCPP 2.0.1 A02/A03 and the V2G certificate of M.., 1.6 security extension natively and through
/// DataTransfer): Accepted or Rejected from the CSR checks now, CertificateSigned after the response. Past the station's
/// budget (<see cref="OcppOptions.SignCertificatesPerStation"/>) the answer is Rejected with reasonCode RateLimitExceeded
/// (OCPP 2.1 Appendix, reason codes) before the CSR is read.
/// </summary>
public sealed class SignCertificateHandler(ICertificateSigningService signing, CertificateSignedDelivery delivery, StationThrottle throttle) : IOcppHandlerModule
{
    public void Register(OcppDispatcher dispatcher) => dispatcher.Register("SignCertificate", HandleAsync, OcppVersion.V16, OcppVersion.V201, OcppVersion.V21);

    private async ValueTask<object> HandleAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var request = OcppJson.Read<SignCertificateRequest>(payload);
        var native16 = context.Version == OcppVersion.V16 && !context.ViaDataTransfer;
        if (!throttle.TrySignCertificate(context.StationId))
            return native16
                ? new { status = "Rejected" }
                : new SignCertificateResponse("Rejected", new StatusInfo("RateLimitExceeded", "Too many SignCertificate requests from this station; try again later."));
        // 1.6's own SignCertificate is only ever for the charge point certificate (1.6 security whitepaper §3.2).
        var use = native16 ? CertificateSigningUse.ChargingStationCertificate : request.CertificateType switch
        {
            "ChargingStationCertificate" => CertificateSigningUse.ChargingStationCertificate,
            "V2GCertificate" => CertificateSigningUse.V2GCertificate,
            _ => CertificateSigningUse.Combined,
        };
        var review = await signing.ReviewAsync(context.Station, request.Csr, use, ct);
        if (!review.Accepted)
            return native16
                ? new { status = "Rejected" }
                : new SignCertificateResponse("Rejected", new StatusInfo("InvalidCSR", Truncate(review.Reason, 512)));
        var station = context.Station;
        context.AfterResponse(token => delivery.DeliverAsync(station, review, native16, token));
        return native16 ? new { status = "Accepted" } : new SignCertificateResponse("Accepted");
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
