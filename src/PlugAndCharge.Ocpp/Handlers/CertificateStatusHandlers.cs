using System.Text.Json;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// GetCertificateStatus (OCPP 2.0.1 M06) and 2.1 GetCertificateChainStatus: OCSP from our responder for our CAs or an
/// allow-listed one, cached by CertID (see <see cref="CertificateStatusService"/>).
/// </summary>
public sealed class CertificateStatusHandlers(CertificateStatusService ocsp, OurCertificateAuthorities cas, ICertificateStore certificates, ICertificateAuthorityStore caStore, TimeProvider clock)
    : IOcppHandlerModule
{
    /// <summary>GetCertificateStatusResponse.ocspResult maxLength.</summary>
    private const int MaxOcspResultLength = 5500;

    public void Register(OcppDispatcher dispatcher)
    {
        dispatcher.Register("GetCertificateStatus", GetStatusAsync, OcppVersion.V201, OcppVersion.V21);
        dispatcher.Register("GetCertificateChainStatus", GetChainStatusAsync, OcppVersion.V21);
    }

    private async ValueTask<object> GetStatusAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var data = OcppJson.Read<GetCertificateStatusRequest>(payload).OcspRequestData;
        if (!CertificateIdentity.TryParse(data.HashAlgorithm, data.IssuerNameHash, data.IssuerKeyHash, data.SerialNumber, out var id, out var error))
            return new GetCertificateStatusResponse("Failed", null, new StatusInfo("InvalidCertID", error));
        var answer = await ocsp.GetAsync(id, data.ResponderUrl, ct);
        if (!answer.Ok || answer.Response == null)
            return new GetCertificateStatusResponse("Failed", null, new StatusInfo("OcspFailed", answer.Failure));
        var base64 = Convert.ToBase64String(answer.Response);
        if (base64.Length > MaxOcspResultLength)
            return new GetCertificateStatusResponse("Failed", null, new StatusInfo("OcspTooLarge"));
        return new GetCertificateStatusResponse("Accepted", base64);
    }

    private async ValueTask<object> GetChainStatusAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var request = OcppJson.Read<GetCertificateChainStatusRequest>(payload);
        var results = new List<CertificateStatusEntry>();
        foreach (var r in request.CertificateStatusRequests)
        {
            var h = r.CertificateHashData;
            if (!CertificateIdentity.TryParse(h.HashAlgorithm, h.IssuerNameHash, h.IssuerKeyHash, h.SerialNumber, out var id, out _))
            {
                results.Add(new CertificateStatusEntry(h, r.Source, "Failed", OcppJson.Time(clock.GetUtcNow())));
                continue;
            }
            results.Add(r.Source == "CRL" ? await FromRecordsAsync(h, id, ct) : await FromOcspAsync(h, id, r.Urls, ct));
        }
        return new GetCertificateChainStatusResponse(results);
    }

    private async Task<CertificateStatusEntry> FromOcspAsync(CertificateHashData h, CertificateIdentity id, IReadOnlyList<string> urls, CancellationToken ct)
    {
        OcspAnswer answer = OcspAnswer.Failed("no responder");
        foreach (var url in urls.DefaultIfEmpty(null))
        {
            answer = await ocsp.GetAsync(id, url, ct);
            if (answer.Ok) break;
        }
        var next = answer.NextUpdate ?? clock.GetUtcNow();
        return new CertificateStatusEntry(h, "OCSP", answer.Ok ? answer.Status.ToString() : "Failed", OcppJson.Time(next));
    }

    /// <summary>
    /// Source CRL: for our CAs the revocation records behind our CRLs, valid until the latest CRL's nextUpdate; we do
    /// not fetch other PKIs' CRLs for stations.
    /// </summary>
    private async Task<CertificateStatusEntry> FromRecordsAsync(CertificateHashData h, CertificateIdentity id, CancellationToken ct)
    {
        var ca = (await cas.GetAsync(ct)).ByIssuerHashes(id.HashAlgorithm, id.IssuerNameHash, id.IssuerKeyHash);
        if (ca == null) return new CertificateStatusEntry(h, "CRL", "Failed", OcppJson.Time(clock.GetUtcNow()));
        var record = await certificates.GetAsync(ca.Id, id.SerialHex, ct);
        var status = record?.Status switch
        {
            CertificateStatus.Valid => "Good",
            CertificateStatus.Revoked => "Revoked",
            _ => "Unknown",
        };
        var crl = await caStore.GetLatestCrlAsync(ca.Id, ct);
        var next = crl?.NextUpdate is { } n && n > clock.GetUtcNow() ? n : clock.GetUtcNow();
        return new CertificateStatusEntry(h, "CRL", status, OcppJson.Time(next));
    }
}
