using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Tokens;

/// <summary>
/// Tokens pushed by eMSPs (tokens receiver interface of the hub): stored in their 2.3.0 form, then pushed on to every
/// CPO that implements the tokens receiver interface and whose roaming agreement with the eMSP covers tokens, each in
/// its own version (EMAID as OTHER for 2.2.1).
/// </summary>
public sealed class TokenDistribution(PartyDirectory parties, PartyClients clients, IOcpiTokenStore tokens, IRoamingAgreements agreements, TimeProvider clock,
    ILogger<TokenDistribution> log)
{
    public sealed record Push(PartyRecord Caller, OcpiVersion Version, string CountryCode, string PartyId, string Uid, string? TypeParameter, byte[] Body, string CorrelationId);

    public async Task<HubAnswer> PutAsync(Push push, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (Ownership(push, now) is { } refused) return refused;
        JsonObject? token;
        try { token = JsonNode.Parse(push.Body) as JsonObject; }
        catch (JsonException) { token = null; }
        if (token is null) return Status(OcpiStatus.InvalidParameters, "The body is not a Token object.", now);

        var type = token["type"]?.GetValue<string>() ?? push.TypeParameter ?? TokenTypes.Rfid;
        var uid = token["uid"]?.GetValue<string>();
        if (uid is null || uid != push.Uid) return Status(OcpiStatus.InvalidParameters, "Token.uid must equal the uid in the URL.", now);
        if (!string.Equals(token["country_code"]?.GetValue<string>(), push.CountryCode, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(token["party_id"]?.GetValue<string>(), push.PartyId, StringComparison.OrdinalIgnoreCase))
            return Status(OcpiStatus.InvalidParameters, "Token.country_code and party_id must equal those in the URL.", now);
        if (push.TypeParameter != null && !string.Equals(push.TypeParameter, type, StringComparison.OrdinalIgnoreCase))
            return Status(OcpiStatus.InvalidParameters, "Token.type must equal the type parameter.", now);
        if (!UtcTimestampConverter.TryParse(token["last_updated"]?.GetValue<string>(), out var lastUpdated))
            return Status(OcpiStatus.InvalidParameters, "Token.last_updated is required.", now);

        TokenTypeTranslation.ForVersion(token, OcpiVersion.V230);
        var stored = new StoredToken(push.CountryCode.ToUpperInvariant(), push.PartyId.ToUpperInvariant(), token["uid"]!.GetValue<string>(),
            token["type"]!.GetValue<string>(), token["whitelist"]?.GetValue<string>(), lastUpdated, token.ToJsonString());
        await tokens.PutAsync(stored, ct);
        var delivered = await BroadcastAsync(push, HttpMethod.Put, stored, v => JsonSerializer.SerializeToUtf8Bytes(
            TokenTypeTranslation.ForVersion(JsonNode.Parse(stored.Json)!.AsObject(), v), OcpiJsonContext.Default.JsonObject), ct);
        return Status(OcpiStatus.Success, delivered, now);
    }

    public async Task<HubAnswer> PatchAsync(Push push, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (Ownership(push, now) is { } refused) return refused;
        JsonObject? patch;
        try { patch = JsonNode.Parse(push.Body) as JsonObject; }
        catch (JsonException) { patch = null; }
        if (patch is null) return Status(OcpiStatus.InvalidParameters, "The body is not a partial Token object.", now);
        if (!UtcTimestampConverter.TryParse(patch["last_updated"]?.GetValue<string>(), out var lastUpdated))
            return Status(OcpiStatus.InvalidParameters, "A PATCH must carry last_updated.", now);

        var type = TokenTypeTranslation.Canonical(push.TypeParameter ?? TokenTypes.Rfid, push.Uid, out var emaid);
        var uid = emaid?.Normalized ?? push.Uid;
        var existing = await tokens.GetAsync(push.CountryCode, push.PartyId, uid, type, ct);
        if (existing is null) return Status(OcpiStatus.UnknownToken, $"Token {uid} ({type}) was never pushed.", now);

        var merged = JsonNode.Parse(existing.Json)!.AsObject();
        foreach (var (name, value) in patch)
        {
            if (name is "uid" or "type" or "country_code" or "party_id") continue;
            merged[name] = value?.DeepClone();
        }
        var stored = existing with { Whitelist = merged["whitelist"]?.GetValue<string>(), LastUpdated = lastUpdated, Json = merged.ToJsonString() };
        await tokens.PutAsync(stored, ct);
        var delivered = await BroadcastAsync(push, HttpMethod.Patch, stored, _ => push.Body, ct);
        return Status(OcpiStatus.Success, delivered, now);
    }

    public async Task<HubAnswer> GetAsync(Push push, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (Ownership(push, now) is { } refused) return refused;
        var type = TokenTypeTranslation.Canonical(push.TypeParameter ?? TokenTypes.Rfid, push.Uid, out var emaid);
        var existing = await tokens.GetAsync(push.CountryCode, push.PartyId, emaid?.Normalized ?? push.Uid, type, ct);
        if (existing is null) return Status(OcpiStatus.UnknownToken, "Unknown token.", now);
        var token = TokenTypeTranslation.ForVersion(JsonNode.Parse(existing.Json)!.AsObject(), push.Version);
        return new HubAnswer(200, OcpiResponses.Envelope<JsonNode>(OcpiStatus.Success, token, OcpiJsonContext.Default.OcpiEnvelopeJsonNode, null, now));
    }

    /// <summary>The eMSPs whose tokens <paramref name="cpo"/> may pull: those whose roaming agreement with it covers tokens.</summary>
    public async Task<IReadOnlyCollection<RoamingParty>> AgreedOwnersAsync(PartyRole? cpo, CancellationToken ct)
    {
        var owners = new HashSet<RoamingParty>();
        if (cpo is null) return owners;
        foreach (var p in await parties.AllAsync(ct))
            foreach (var r in p.Roles)
                if (r.Role == Roles.Emsp && (await agreements.DecideAsync(cpo, r, AgreementScope.Tokens, ct)).Allowed) owners.Add(AgreementPair.Party(r));
        return owners;
    }

    private static HubAnswer? Ownership(Push push, DateTimeOffset now) =>
        push.Caller.Roles.Any(r => r.Is(Roles.Emsp, push.CountryCode, push.PartyId))
            ? null
            : Status(OcpiStatus.InvalidParameters, $"Tokens of {push.CountryCode}-{push.PartyId} can only be pushed by that eMSP.", now);

    private async Task<string> BroadcastAsync(Push push, HttpMethod method, StoredToken token, Func<OcpiVersion, byte[]> bodyFor, CancellationToken ct)
    {
        var from = push.Caller.FindRole(push.CountryCode, push.PartyId);
        var calls = new List<Task<PartyResponse>>();
        var unagreed = 0;
        foreach (var cpo in await parties.AllAsync(ct))
        {
            if (cpo.Id == push.Caller.Id || !cpo.IsRegistered || !cpo.HasRole(Roles.Cpo) || cpo.Status == PartyStatus.Suspended) continue;
            if (cpo.Endpoint("tokens", InterfaceRoles.Receiver) is not { } endpoint) continue;
            var to = cpo.Roles.First(r => r.Role == Roles.Cpo);
            if (!(await agreements.DecideAsync(from, to, AgreementScope.Tokens, ct)).Allowed) { unagreed++; continue; }
            OcpiVersions.TryParse(cpo.Version, out var v);
            var url = $"{endpoint.Url.TrimEnd('/')}/{token.CountryCode}/{token.PartyId}/{Uri.EscapeDataString(token.Uid)}?type={TokenTypeTranslation.ForVersion(token.Type, v)}";
            calls.Add(clients.For(cpo).SendAsync(method, url, cpo.OutgoingToken!, push.CorrelationId,
                new RoutingParties(from?.CountryCode, from?.PartyId, to.CountryCode, to.PartyId), bodyFor(v), clients.TimeoutFor(cpo), ct));
        }
        var results = await Task.WhenAll(calls);
        var ok = results.Count(r => r.IsSuccess);
        if (ok < results.Length) log.LogWarning("Token push reached {Ok} of {All} CPOs", ok, results.Length);
        return unagreed == 0 ? $"Stored; delivered to {ok} of {results.Length} CPOs."
            : $"Stored; delivered to {ok} of {results.Length} CPOs with a roaming agreement covering tokens ({unagreed} without).";
    }

    private static HubAnswer Status(int status, string? message, DateTimeOffset now) =>
        new(OcpiStatus.HttpStatusFor(status), OcpiResponses.StatusEnvelope(status, message, now));
}
