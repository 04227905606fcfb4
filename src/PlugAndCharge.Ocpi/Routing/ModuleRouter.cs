using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Routing;

/// <summary>
/// Routes locations, sessions, CDRs, tariffs, commands and charging profiles by the OCPI-to/from-* headers (2.2.1
/// §4.1.x "Message Routing"): with a receiver named, direct forwarding; without, a push to a receiver interface is
/// broadcast to every party implementing it and a GET of a sender's list is merged across every party offering it. A
/// request whose OCPI-to-* names the hub itself is the hub's own: broadcast or merged the same way. Every route between a
/// CPO and an eMSP needs their roaming agreement to cover the module (<see cref="IRoamingAgreements"/>): a broadcast or
/// merge reaches only the agreed parties, and a request addressed to an unagreed one is refused with a message naming
/// the missing agreement. Locations and tariffs go to the hub's store instead when the host composed one
/// (<see cref="HubStoreRouter"/>).
/// </summary>
public sealed class ModuleRouter(PartyDirectory parties, PartyClients clients, CommandCallbacks commands, IRoamingAgreements agreements, HubIdentity hub,
    TimeProvider clock, HubStoreRouter? store = null)
{
    public static readonly IReadOnlySet<string> Modules = new HashSet<string>(StringComparer.Ordinal)
        { "locations", "sessions", "cdrs", "tariffs", "commands", "chargingprofiles" };

    public async Task<RoutedAnswer> RouteAsync(RoutedRequest request, CancellationToken ct)
    {
        // Issue 24: the hub keeps locations and tariffs and serves them itself (pushes stored and pushed on, GET-all paged from the store).
        if (store != null && HubStoreRouter.Handles(request)) return await store.RouteAsync(request, ct);

        var now = clock.GetUtcNow();
        var role = request.InterfaceRole;
        RoutingParties routing;
        PartyRole? from;
        if (request.FromCountryCode != null || request.FromPartyId != null)
        {
            from = request.FromCountryCode is { } fc && request.FromPartyId is { } fp ? request.Caller.FindRole(fc, fp) : null;
            if (from is null) return Status(OcpiStatus.InvalidParameters, "OCPI-from-country-code / OCPI-from-party-id do not name a role of the caller.", now);
        }
        else from = request.Caller.Roles.FirstOrDefault();

        // OCPI 2.2.1 §4.1.x / 2.3.0 "Message Routing": a message to the hub itself is the hub's to handle (a broadcast
        // for receiver pushes, the hub's own list for sender GETs), as if no receiver were named.
        var toHub = request.ToCountryCode is { } hc && request.ToPartyId is { } hp
            && string.Equals(hc, hub.CountryCode, StringComparison.OrdinalIgnoreCase) && string.Equals(hp, hub.PartyId, StringComparison.OrdinalIgnoreCase);
        if (!toHub && request.ToCountryCode is { } toCc && request.ToPartyId is { } toPid)
        {
            var target = await parties.FindByCountryPartyAsync(toCc, toPid, ct);
            if (target is null) return Status(OcpiStatus.UnknownReceiver, $"No party {toCc}-{toPid} is connected to this hub.", now);
            // Before anything else about the receiver: a party without an agreement learns nothing of the other's endpoints.
            if (RoamingAgreementDecisions.ScopeOf(request.Module) is { } scope
                && await agreements.DecideAsync(from, target.FindRole(toCc, toPid), scope, ct) is { Allowed: false } refused)
                return Refused(request, refused, now);
            var endpoint = target.IsRegistered ? target.Endpoint(request.Module, role) : null;
            if (target.IsRegistered && endpoint is null)
                return Status(OcpiStatus.UnknownReceiver, $"Party {toCc}-{toPid} does not implement {request.Module} {role}.", now);
            if (!target.IsRegistered || target.Status is PartyStatus.Suspended or PartyStatus.Planned)
                return Status(OcpiStatus.ReceiverNotConnected, $"Party {toCc}-{toPid} is not connected.", now);
            routing = new RoutingParties(from?.CountryCode, from?.PartyId, toCc, toPid);
            string? commandSlot = null;
            if (IsCommand(request))
            {
                var (rewritten, slot) = await RewriteResponseUrlAsync(request, target, routing, ct);
                if (slot.PartyFull)
                    return Status(OcpiStatus.ClientError, "You have too many commands awaiting their result; wait for results (or their timeout) before sending more.", now, 429);
                if (slot.HubFull) return Status(OcpiStatus.HubError, "The hub cannot take more pending commands right now.", now);
                request = rewritten;
                commandSlot = slot.Id;
            }
            var response = await ForwardAsync(target, endpoint!, request, routing, request.Query, ct);
            // A command the CPO did not take never gets a CommandResult: its slot is free at once.
            if (commandSlot != null && !response.IsSuccess) await commands.CompleteAsync(commandSlot, CancellationToken.None);
            return response.Outcome switch
            {
                PartyCallOutcome.Answered => new RoutedAnswer(response.HttpStatus, VersionTranslation.Body(response.Body, Version(target), request.Version),
                    response.TotalCount, response.Limit, RewriteLink(response.Link, request)),
                PartyCallOutcome.Unreachable => Status(OcpiStatus.ReceiverNotConnected, $"Party {toCc}-{toPid} could not be reached.", now),
                _ => Status(OcpiStatus.ForwardTimeout, $"Party {toCc}-{toPid} did not answer in time.", now),
            };
        }
        if (!toHub && (request.ToCountryCode != null || request.ToPartyId != null))
            return Status(OcpiStatus.InvalidParameters, "OCPI-to-country-code and OCPI-to-party-id go together.", now);

        if (request.Method == HttpMethod.Get && request.Rest.Length == 0 && role == InterfaceRoles.Sender)
            return await MergeAsync(request, from, now, ct);
        if (request.Method != HttpMethod.Get && role == InterfaceRoles.Receiver)
            return await BroadcastAsync(request, from, toHub, now, ct);
        return toHub
            ? Status(OcpiStatus.InvalidParameters, $"The hub holds no {request.Module} object of its own: name the party it belongs to in OCPI-to-country-code and OCPI-to-party-id.", now)
            : Status(OcpiStatus.InvalidParameters, "This request needs OCPI-to-country-code and OCPI-to-party-id: the hub cannot tell which party it is for.", now);
    }

    private static bool IsCommand(RoutedRequest r) =>
        r.Module == "commands" && r.InterfaceRole == InterfaceRoles.Receiver && r.Method == HttpMethod.Post && r.Body.Length > 0;

    /// <summary>
    /// Replaces the command's response_url with a one-time URL of the hub (the CPO posts its CommandResult there and
    /// the hub relays it to the eMSP's own URL). A body without response_url goes on unchanged; the slot says when a
    /// limit refused it.
    /// </summary>
    private async Task<(RoutedRequest Request, CommandSlot Slot)> RewriteResponseUrlAsync(RoutedRequest request, PartyRecord target, RoutingParties routing, CancellationToken ct)
    {
        JsonObject? body;
        try { body = JsonNode.Parse(request.Body) as JsonObject; }
        catch (JsonException) { return (request, default); }
        if (body?["response_url"]?.GetValue<string>() is not { Length: > 0 } original) return (request, default);
        var slot = await commands.RegisterAsync(new PendingCommand(original, request.Caller.Id, target.Id, routing.FromCountryCode, routing.FromPartyId,
            routing.ToCountryCode, routing.ToPartyId), ct);
        if (slot.Id is not { } id) return (request, slot);
        var versionBase = request.HubModuleUrl[..request.HubModuleUrl.LastIndexOf("/receiver/", StringComparison.Ordinal)];
        body["response_url"] = $"{versionBase}/hub/commandresult/{id}";
        return (request with { Body = JsonSerializer.SerializeToUtf8Bytes(body, OcpiJsonContext.Default.JsonObject) }, slot);
    }

    /// <summary>
    /// A CPO's CommandResult posted to the hub's callback URL: relayed to the response_url the eMSP gave, with the eMSP's
    /// token B and the routing headers of the way back. Only the party the command went to may post it, once: the post
    /// claims the stored callback, so of two posts reaching two instances only one relays; a failed relay gives it back.
    /// </summary>
    public async Task<RoutedAnswer> RelayCommandResultAsync(PartyRecord caller, string id, OcpiVersion version, byte[] body, string correlationId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var claim = await commands.ClaimAsync(id, caller.Id, ct);
        switch (claim.Status)
        {
            case CommandClaimStatus.Unknown: return Status(OcpiStatus.ClientError, "No pending command has this result URL (unknown, answered or expired).", now, 404);
            case CommandClaimStatus.NotYours: return Status(OcpiStatus.ClientError, "This command was not sent to you.", now, 403);
            case CommandClaimStatus.InFlight: return Status(OcpiStatus.ClientError, "A result for this command is being relayed already.", now, 409);
        }
        var pending = claim.Command!;
        PartyResponse response;
        try
        {
            var sender = await parties.GetAsync(pending.SenderPartyId, ct);
            if (sender is not { IsRegistered: true } || sender.Status is PartyStatus.Suspended or PartyStatus.Planned)
            {
                await commands.ReleaseAsync(id, CancellationToken.None);
                return Status(OcpiStatus.ReceiverNotConnected, "The party that sent the command is not connected.", now);
            }
            var routing = new RoutingParties(pending.ReceiverCountryCode, pending.ReceiverPartyCode, pending.SenderCountryCode, pending.SenderPartyCode);
            response = await clients.For(sender).SendAsync(HttpMethod.Post, pending.ResponseUrl, sender.OutgoingToken!, correlationId, routing,
                VersionTranslation.Body(body, version, Version(sender)), clients.TimeoutFor(sender), ct);
        }
        catch
        {
            // The claim's lease (CommandCallbacks.ClaimHold) frees it anyway; giving it back now lets the CPO retry at once.
            try { await commands.ReleaseAsync(id, CancellationToken.None); } catch (Exception) { }
            throw;
        }
        if (response.IsSuccess) await commands.CompleteAsync(id, CancellationToken.None);
        else await commands.ReleaseAsync(id, CancellationToken.None);
        return response.Outcome switch
        {
            PartyCallOutcome.Answered => new RoutedAnswer(response.HttpStatus, response.Body),
            PartyCallOutcome.Unreachable => Status(OcpiStatus.ReceiverNotConnected, "The party that sent the command could not be reached.", now),
            _ => Status(OcpiStatus.ForwardTimeout, "The party that sent the command did not answer in time.", now),
        };
    }

    /// <summary>
    /// The connected parties implementing the request's interface that the sender may reach: of the "opposite role"
    /// (2.2.1/2.3.0 Broadcast Push: a CPO's pushes go to eMSPs, NSPs and OTHER, an eMSP's and OTHER's to CPOs), with a
    /// roaming agreement covering the module when they are a CPO and an eMSP. Each comes with its role the routing
    /// headers name.
    /// </summary>
    private async Task<List<(PartyRecord Party, PartyEndpoint Endpoint, PartyRole? Role)>> AgreedAsync(RoutedRequest request, PartyRole? from, CancellationToken ct)
    {
        var scope = RoamingAgreementDecisions.ScopeOf(request.Module);
        var agreed = new List<(PartyRecord, PartyEndpoint, PartyRole?)>();
        foreach (var p in await parties.AllAsync(ct))
        {
            if (p.Id == request.Caller.Id || !p.IsRegistered || p.Status is PartyStatus.Suspended or PartyStatus.Planned) continue;
            if (p.Endpoint(request.Module, request.InterfaceRole) is not { } e) continue;
            var role = AgreementPair.Counterpart(from, p);
            if (!AgreementPair.Opposite(from, role)) continue;
            if (scope is { } sc && !(await agreements.DecideAsync(from, role, sc, ct)).Allowed) continue;
            agreed.Add((p, e, role));
        }
        return agreed;
    }

    /// <summary>
    /// A route the agreements refuse: OCPI 2.2.1 §4.1.7 has no status for it, so a client error (2000), or 2003 for a
    /// location asked by id, which the sender's own answer would be for a location it does not share with this party.
    /// </summary>
    private static RoutedAnswer Refused(RoutedRequest request, AgreementDecision refused, DateTimeOffset now) =>
        request is { Module: "locations", Method.Method: "GET", Rest.Length: > 0 }
            ? Status(OcpiStatus.UnknownLocation, refused.Refusal!, now)
            : Status(OcpiStatus.ClientError, refused.Refusal!, now);

    /// <summary>
    /// A push to every agreed party of the opposite role. A Broadcast Push (OCPI-to-* naming the hub) reaches them from
    /// the hub (OCPI-from-* of the hub); an Open Routing Request (no OCPI-to-*) from the requesting party (2.2.1/2.3.0
    /// "Overview of required/optional routing headers").
    /// </summary>
    private async Task<RoutedAnswer> BroadcastAsync(RoutedRequest request, PartyRole? from, bool broadcastPush, DateTimeOffset now, CancellationToken ct)
    {
        var targets = await AgreedAsync(request, from, ct);
        var (fromCc, fromPid) = broadcastPush ? (hub.CountryCode, hub.PartyId) : (from?.CountryCode, from?.PartyId);
        var results = await Task.WhenAll(targets.Select(t =>
            ForwardAsync(t.Party, t.Endpoint, request, new RoutingParties(fromCc, fromPid, t.Role?.CountryCode, t.Role?.PartyId), request.Query, ct)));
        var ok = results.Count(r => r.IsSuccess);
        return Status(OcpiStatus.Success, $"Broadcast to {ok} of {results.Length} agreed parties implementing {request.Module}.", now);
    }

    private async Task<RoutedAnswer> MergeAsync(RoutedRequest request, PartyRole? from, DateTimeOffset now, CancellationToken ct)
    {
        var page = request.Page ?? new Pagination(0, 100, null, null);
        var query = $"?offset=0&limit={page.Offset + page.Limit}";
        if (page.DateFrom is { } f) query += "&date_from=" + Uri.EscapeDataString(UtcTimestampConverter.Format(f));
        if (page.DateTo is { } t) query += "&date_to=" + Uri.EscapeDataString(UtcTimestampConverter.Format(t));
        var targets = await AgreedAsync(request, from, ct);
        var results = await Task.WhenAll(targets.Select(x =>
            ForwardAsync(x.Party, x.Endpoint, request, new RoutingParties(from?.CountryCode, from?.PartyId, x.Role?.CountryCode, x.Role?.PartyId), query, ct)));

        var items = new List<JsonNode>();
        var total = 0;
        var failed = 0;
        for (var i = 0; i < results.Length; i++)
        {
            var r = results[i];
            JsonArray? data = null;
            try { data = r.IsSuccess ? JsonNode.Parse(r.Body)?["data"] as JsonArray : null; }
            catch (JsonException) { }
            if (data is null) { failed++; continue; }
            var translated = VersionTranslation.Node(data, Version(targets[i].Party), request.Version);
            items.AddRange(((JsonArray)translated).Where(n => n != null).Select(n => n!.DeepClone()));
            total += int.TryParse(r.TotalCount, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : data.Count;
        }
        // Ordered by last_updated across parties, as one party's list would be.
        var ordered = items.OrderBy(n => n["last_updated"]?.GetValue<string>(), StringComparer.Ordinal).Skip(page.Offset).Take(page.Limit).ToList();
        var body = OcpiResponses.Envelope(OcpiStatus.Success, ordered, OcpiJsonContext.Default.OcpiEnvelopeListJsonNode,
            failed > 0 ? $"{failed} of {results.Length} parties did not answer." : null, now);
        var link = page.Offset + ordered.Count < total ? $"<{page.NextUrl(request.HubModuleUrl, ordered.Count)}>; rel=\"next\"" : null;
        return new RoutedAnswer(200, body, total.ToString(CultureInfo.InvariantCulture), page.Limit.ToString(CultureInfo.InvariantCulture), link);
    }

    private Task<PartyResponse> ForwardAsync(PartyRecord target, PartyEndpoint endpoint, RoutedRequest request, RoutingParties routing, string query, CancellationToken ct)
    {
        var url = endpoint.Url.TrimEnd('/') + request.Rest + query;
        var body = request.Body.Length == 0 ? request.Body : VersionTranslation.Body(request.Body, request.Version, Version(target));
        return clients.For(target).SendAsync(request.Method, url, target.OutgoingToken!, request.CorrelationId, routing, body, clients.TimeoutFor(target), ct);
    }

    internal static OcpiVersion Version(PartyRecord p) => OcpiVersions.TryParse(p.Version, out var v) ? v : OcpiVersion.V230;

    /// <summary>A party's next-page link points at the party; the caller must follow it through the hub.</summary>
    private static string? RewriteLink(string? link, RoutedRequest request) =>
        Pagination.LinkTarget(link) is { } next ? $"<{request.HubModuleUrl}{request.Rest}{next.Query}>; rel=\"next\"" : null;

    private static RoutedAnswer Status(int status, string message, DateTimeOffset now, int? httpStatus = null) =>
        new(httpStatus ?? OcpiStatus.HttpStatusFor(status), OcpiResponses.StatusEnvelope(status, message, now));
}
