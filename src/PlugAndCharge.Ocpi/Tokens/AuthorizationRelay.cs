using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Tokens;

/// <summary>A real-time authorization as it reaches the hub (from a CPO, or from the hub's own OCPP side).</summary>
public sealed record AuthorizationRequest(
    OcpiVersion CallerVersion,
    string Uid,
    string Type,
    ReadOnlyMemory<byte> LocationReferencesJson,
    string CorrelationId,
    string? FromCountryCode,
    string? FromPartyId,
    string? ToCountryCode = null,
    string? ToPartyId = null);

/// <summary>
/// What the relay decided, typed: the hub's own AuthorizationInfo, a refusal with an OCPI status, or the eMSP's answer.
/// JSON is written only at the edges: the OCPI endpoint writes the envelope (<see cref="RelayAnswers"/>), and the
/// eMSP's bytes are read only by the caller that needs their fields (<see cref="HubContractAuthorization"/>).
/// </summary>
public abstract record RelayAnswer
{
    /// <summary>The hub answered from its own records (contract short-cut) or by the whitelist policy.</summary>
    public sealed record Decided(AuthorizationInfo Info) : RelayAnswer;

    /// <summary>No AuthorizationInfo: an OCPI status (2001 invalid parameters, 2004 unknown token, 4002, 4003, ...).</summary>
    public sealed record Refused(int Status, string Message) : RelayAnswer;

    /// <summary>The eMSP's HTTP status and envelope as it sent them, in its OCPI version, for a token of this type.</summary>
    public sealed record Relayed(int HttpStatus, byte[] Body, string TokenType, OcpiVersion EmspVersion) : RelayAnswer;
}

/// <summary>
/// <c>POST tokens/{uid}/authorize</c> through the hub: find the eMSP that owns the token (routing headers, the EMAID's
/// provider prefix, or a pushed token), answer from the hub's own contract records when they already decide it, else
/// relay to the eMSP and pass its answer back, translated for the caller's version. A silent or unreachable eMSP gets
/// the whitelist policy: tokens the eMSP allowed to be whitelisted are allowed, the rest refused with 4002 / 4003. The
/// CPO and the eMSP need a roaming agreement covering Plug &amp; Charge for the short-cut and real-time authorization for
/// the relay (and its whitelist fallback); without one the token is unknown to the CPO (2004, naming the agreement).
/// </summary>
public sealed class AuthorizationRelay(
    PartyDirectory parties,
    PartyClients clients,
    IOcpiTokenStore tokens,
    IContractStatusSource contracts,
    IRoamingAgreements agreements,
    OcpiHubOptions options,
    TimeProvider clock,
    ILogger<AuthorizationRelay> log)
{
    public async Task<RelayAnswer> AuthorizeAsync(AuthorizationRequest request, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (request.Uid.Length is 0 or > 36) return Status(OcpiStatus.InvalidParameters, "Token uid must be 1 to 36 characters.");
        var type = TokenTypeTranslation.Canonical(request.Type, request.Uid, out var emaid);
        if (type == TokenTypes.Emaid && emaid is null)
            return Status(OcpiStatus.InvalidParameters, $"'{request.Uid}' is not an EMAID.");
        var uid = emaid?.Normalized ?? request.Uid;

        LocationReferences? location = null;
        if (!request.LocationReferencesJson.IsEmpty)
        {
            try { location = JsonSerializer.Deserialize(request.LocationReferencesJson.Span, OcpiJsonContext.Default.LocationReferences); }
            catch (JsonException) { return Status(OcpiStatus.InvalidParameters, "The body is not a LocationReferences object."); }
            if (location is null || string.IsNullOrEmpty(location.LocationId)) return Status(OcpiStatus.InvalidParameters, "LocationReferences.location_id is required.");
        }

        // 1. The receiver: explicit routing headers, else the EMAID's provider prefix, else the eMSP that pushed the token.
        PartyRecord? emsp = null;
        StoredToken? stored = null;
        // OCPI-to-* naming the hub itself is an Open Routing Request like none: the hub finds the eMSP.
        if (request.ToCountryCode is { } toCc && request.ToPartyId is { } toPid
            && !(string.Equals(toCc, options.CountryCode, StringComparison.OrdinalIgnoreCase) && string.Equals(toPid, options.PartyId, StringComparison.OrdinalIgnoreCase)))
        {
            emsp = await parties.FindByCountryPartyAsync(toCc, toPid, ct);
            if (emsp is null) return Status(OcpiStatus.UnknownReceiver, $"No party {toCc}-{toPid} is connected to this hub.");
        }
        else if (emaid != null)
        {
            emsp = await parties.FindByProviderPrefixAsync(emaid.ProviderPrefix, ct);
        }
        if (emsp is null)
        {
            stored = await tokens.FindAsync(uid, type, ct);
            if (stored != null) emsp = await parties.FindByCountryPartyAsync(stored.CountryCode, stored.PartyId, ct);
        }

        var owner = emsp?.Roles.FirstOrDefault(r => r.Role == Roles.Emsp) ?? emsp?.Roles.FirstOrDefault();
        var ownerCc = stored?.CountryCode ?? owner?.CountryCode ?? emaid?.Country;
        var ownerPid = stored?.PartyId ?? owner?.PartyId ?? emaid?.ProviderId;

        // 2. Plug & Charge: what the hub's own contract and certificate records already decide.
        if (emaid != null)
        {
            var state = await contracts.GetAsync(emaid, ct);
            if (ContractShortcut.Decide(state) is { } verdict)
            {
                if (await RefusedAsync(request, ownerCc, ownerPid, AgreementScope.PlugAndCharge, ct) is { } refused) return refused;
                stored ??= ownerCc != null && ownerPid != null ? await tokens.GetAsync(ownerCc, ownerPid, uid, type, ct) : null;
                return Answer(verdict.Allowed, TokenFor(stored, ownerCc!, ownerPid!, uid, type, emsp?.Name, now, valid: false), location, verdict.Reason);
            }
        }

        if (emsp is null) return Status(OcpiStatus.UnknownToken, $"Token {uid} ({type}) is not known to this hub.");
        if (await RefusedAsync(request, ownerCc, ownerPid, AgreementScope.RealTimeAuthorization, ct) is { } unagreed) return unagreed;

        // 3. Relay to the eMSP.
        var endpoint = emsp.IsRegistered ? emsp.Endpoint("tokens", InterfaceRoles.Sender) : null;
        PartyResponse response;
        if (!emsp.IsRegistered || emsp.Status is PartyStatus.Suspended or PartyStatus.Planned)
            response = PartyResponse.Failed(PartyCallOutcome.Unreachable);
        else if (endpoint is null)
            return Status(OcpiStatus.UnknownReceiver, $"Party {ownerCc}-{ownerPid} offers no tokens sender endpoint for real-time authorization.");
        else
        {
            OcpiVersions.TryParse(emsp.Version, out var emspVersion);
            var url = $"{endpoint.Url.TrimEnd('/')}/{Uri.EscapeDataString(uid)}/authorize?type={TokenTypeTranslation.ForVersion(type, emspVersion)}";
            response = await clients.For(emsp).SendAsync(HttpMethod.Post, url, emsp.OutgoingToken!, request.CorrelationId,
                new RoutingParties(request.FromCountryCode, request.FromPartyId, owner?.CountryCode, owner?.PartyId),
                request.LocationReferencesJson, clients.TimeoutFor(emsp), ct);
            if (response.Outcome == PartyCallOutcome.Answered)
                return new RelayAnswer.Relayed(response.HttpStatus, response.Body, type, emspVersion);
        }

        // 4. No answer: the whitelist decides.
        log.LogWarning("Authorization relay to party {Party}: {Outcome}", emsp.Id, response.Outcome);
        stored ??= ownerCc != null && ownerPid != null ? await tokens.GetAsync(ownerCc, ownerPid, uid, type, ct) : null;
        if (stored?.Whitelist is WhitelistTypes.AllowedOffline or WhitelistTypes.Allowed or WhitelistTypes.Always)
            return Answer(AllowedType.Allowed, TokenFor(stored, ownerCc!, ownerPid!, uid, type, emsp.Name, now, valid: true), location,
                "The eMSP could not be reached; the token may be whitelisted.");
        return response.Outcome == PartyCallOutcome.Unreachable
            ? Status(OcpiStatus.ReceiverNotConnected, $"The eMSP {ownerCc}-{ownerPid} is not connected.")
            : Status(OcpiStatus.ForwardTimeout, $"The eMSP {ownerCc}-{ownerPid} did not answer in time.");
    }

    /// <summary>The refusal when the CPO asking and the token's eMSP have no agreement covering <paramref name="scope"/>.</summary>
    private async ValueTask<RelayAnswer?> RefusedAsync(AuthorizationRequest request, string? ownerCc, string? ownerPid, AgreementScope scope, CancellationToken ct)
    {
        if (request.FromCountryCode is not { } cpoCc || request.FromPartyId is not { } cpoPid || ownerCc is null || ownerPid is null) return null;
        var decision = await agreements.DecideAsync(new RoamingParty(cpoCc, cpoPid), new RoamingParty(ownerCc, ownerPid), scope, ct);
        return decision.Allowed ? null : Status(OcpiStatus.UnknownToken, decision.Refusal!);
    }

    private static JsonObject TokenFor(StoredToken? stored, string cc, string pid, string uid, string type, string? issuer, DateTimeOffset now, bool valid)
    {
        if (stored != null && JsonNode.Parse(stored.Json) is JsonObject known) return known;
        // The eMSP never pushed this token (2.3.0 recommends not pushing EMAIDs): describe it from what the hub knows.
        return new JsonObject
        {
            ["country_code"] = cc,
            ["party_id"] = pid,
            ["uid"] = uid,
            ["type"] = type,
            ["contract_id"] = uid,
            ["issuer"] = issuer ?? cc + pid,
            ["valid"] = valid,
            ["whitelist"] = WhitelistTypes.Never,
            ["last_updated"] = UtcTimestampConverter.Format(now),
        };
    }

    private static RelayAnswer Answer(string allowed, JsonObject token, LocationReferences? location, string info) =>
        new RelayAnswer.Decided(new AuthorizationInfo(allowed, token, location, null, new DisplayText("en", info)));

    private static RelayAnswer Status(int status, string message) => new RelayAnswer.Refused(status, message);
}
