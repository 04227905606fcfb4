using System.Text.Json;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Tokens;

/// <summary>The outcome of authorizing a contract through the hub, for a caller that is not an OCPI party (OCPP).</summary>
/// <param name="Allowed">ALLOWED, BLOCKED, EXPIRED, NO_CREDIT or NOT_ALLOWED; null when no AuthorizationInfo came back.</param>
/// <param name="Status">The OCPI status (1000, 2004 unknown token, 4002 timeout, 4003 not connected, ...).</param>
public sealed record ContractAuthorization(string? Allowed, int Status, string? AuthorizationReference, string? Message);

/// <summary>
/// Lets the CSMS side (OCPP Authorize with an EMAID) use the relay for contracts whose eMSP is a hub party: the hub
/// asks as its own CPO, with the same contract short-cut and whitelist policy as for any CPO.
/// </summary>
public sealed class HubContractAuthorization(AuthorizationRelay relay, PartyDirectory parties, HubIdentity hub)
{
    /// <summary>True when a hub party owns the EMAID's provider prefix, so the relay can answer for it.</summary>
    public async ValueTask<bool> IsHubContractAsync(Emaid emaid, CancellationToken ct = default) =>
        await parties.FindByProviderPrefixAsync(emaid.ProviderPrefix, ct) is not null;

    public async Task<ContractAuthorization> AuthorizeAsync(Emaid emaid, LocationReferences? location, string? correlationId = null, CancellationToken ct = default)
    {
        var body = location is null ? ReadOnlyMemory<byte>.Empty : JsonSerializer.SerializeToUtf8Bytes(location, OcpiJsonContext.Default.LocationReferences);
        var answer = await relay.AuthorizeAsync(new AuthorizationRequest(OcpiVersion.V230, emaid.Normalized, TokenTypes.Emaid, body,
            correlationId ?? Guid.NewGuid().ToString(), hub.CountryCode, hub.PartyId), ct);
        return answer switch
        {
            RelayAnswer.Decided d => new ContractAuthorization(d.Info.Allowed, OcpiStatus.Success, d.Info.AuthorizationReference, d.Info.Info?.Text),
            RelayAnswer.Refused r => new ContractAuthorization(null, r.Status, null, r.Message),
            RelayAnswer.Relayed e => FromEmsp(e),
            _ => throw new InvalidOperationException(answer.GetType().Name),
        };
    }

    /// <summary>The eMSP's envelope, read once: its status and, when it sent an AuthorizationInfo, allowed and reference.</summary>
    private static ContractAuthorization FromEmsp(RelayAnswer.Relayed e)
    {
        if (e.Body.Length == 0)
            return new ContractAuthorization(null, e.HttpStatus == 404 ? OcpiStatus.UnknownToken : OcpiStatus.ServerError, null, "The eMSP answered without a body.");
        try
        {
            using var doc = JsonDocument.Parse(e.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new ContractAuthorization(null, OcpiStatus.ServerError, null, "The eMSP's answer is not an OCPI envelope.");
            var status = root.TryGetProperty("status_code", out var s) && s.TryGetInt32(out var code) ? code : OcpiStatus.ServerError;
            var message = root.TryGetProperty("status_message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            string? allowed = null, reference = null;
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                allowed = data.TryGetProperty("allowed", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                reference = data.TryGetProperty("authorization_reference", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            }
            return new ContractAuthorization(allowed, status, reference, message);
        }
        catch (JsonException)
        {
            return new ContractAuthorization(null, OcpiStatus.ServerError, null, "The eMSP answered with something that is not JSON.");
        }
    }
}
