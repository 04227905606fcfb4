using System.Text.Json;
using PlugAndCharge.Contracts.Contracts;

namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>Builds the OPCP PCID/EMAID event body (webhook.payload.v1.json) for a contract change.</summary>
public static class ContractWebhookPayloads
{
    public static WebhookEvent For(string eventType, Contract contract, DateTimeOffset at, string? cpsRootFingerprint = null, string? cpsRootCommonName = null)
    {
        var id = Guid.NewGuid();
        var payload = new Dictionary<string, object?>
        {
            ["emaid"] = contract.Emaid,
            ["pcid"] = contract.Pcid,
        };
        if (contract.Certificate is { } cert)
        {
            payload["contractCert"] = Convert.ToBase64String(cert.Der);
            payload["signatureAlgorithm"] = cert.KeyAlgorithm == Pki.Keys.KeyAlgorithm.EcP256 ? "secp256r1" : "secp521r1";
        }
        if (cpsRootFingerprint != null) payload["cpsSignerRootFingerprint"] = cpsRootFingerprint;
        if (cpsRootCommonName != null) payload["cpsSignerRootCommonName"] = cpsRootCommonName;
        var body = new Dictionary<string, object?>
        {
            ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["eventId"] = id.ToString(),
            ["eventType"] = eventType,
            ["xsdMsgDefNamespace"] = contract.Standard.Namespace(),
            ["payload"] = payload,
        };
        return new WebhookEvent(id, eventType, contract.Pcid, JsonSerializer.Serialize(body), at);
    }
}
