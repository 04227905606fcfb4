using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;

namespace PlugAndCharge.Ocpi.Locations;

/// <summary>
/// Locations and tariffs served from the hub's store instead of forwarded: a CPO's pushes to the receiver interface are
/// stored (in the CPO's version) and pushed on (<see cref="StorePushes"/>); an eMSP's GET of the sender interface is
/// answered from the store, in the eMSP's version, with only the CPOs it roams with for that scope
/// (<see cref="IRoamingAgreements"/>), so a CPO that is down is still served and a page costs the same wherever it is.
/// </summary>
public sealed class HubStoreRouter(IHubObjectStore store, StorePushes pushes, PartyDirectory parties, IRoamingAgreements agreements, TimeProvider clock)
{
    public static bool Handles(RoutedRequest r) => r.Module is "locations" or "tariffs";

    public async Task<RoutedAnswer> RouteAsync(RoutedRequest request, CancellationToken ct)
    {
        var kind = request.Module == "locations" ? HubObjectKind.Location : HubObjectKind.Tariff;
        var path = request.Rest.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        try
        {
            if (request.InterfaceRole == InterfaceRoles.Receiver) return await ReceiveAsync(request, kind, path, ct);
            if (request.Method != HttpMethod.Get) return Status(OcpiStatus.ClientError, $"The {request.Module} sender interface is read with GET.", 405);
            if (path.Length == 0) return await ListAsync(request, kind, ct);
            if (kind == HubObjectKind.Tariff || path.Length > 3) return Status(OcpiStatus.ClientError, "No such object path.", 404);
            return await GetOneAsync(request, path, ct);
        }
        catch (HubObjectRefused e) { return Status(e.OcpiStatus, e.Message); }
    }

    /// <summary>A push (PUT, PATCH, DELETE) or a read-back (GET) of the CPO's own object: /{country_code}/{party_id}/{id}[/…].</summary>
    private async Task<RoutedAnswer> ReceiveAsync(RoutedRequest request, HubObjectKind kind, string[] path, CancellationToken ct)
    {
        if (path.Length < 3) return Status(OcpiStatus.InvalidParameters, "The URL must name country_code, party_id and the object's id.");
        // OCPI ids are CiString(36) (country_code 2, party_id 3): nothing longer is stored.
        if (path.Any(p => p.Length is 0 or > 36)) return Status(OcpiStatus.InvalidParameters, "An id in the URL is empty or longer than 36 characters.");
        // A CPO writes only its own objects: the URL's party must be a CPO role of the caller's credentials.
        if (request.Caller.FindRole(path[0], path[1]) is not { Role: Roles.Cpo })
            return Status(OcpiStatus.InvalidParameters, $"{path[0]}-{path[1]} is not a CPO role of yours.");
        var key = HubObjectKey.Of(kind, path[0], path[1], path[2]);
        var objectPath = path[2..];
        if (request.Method == HttpMethod.Get)
        {
            var stored = await store.GetAsync(key, ct);
            return stored is null ? Status(OcpiStatus.UnknownLocation, $"The hub holds no {kind} {key.Id} of {key.Cpo}.")
                : Data(Select(VersionTranslation.Node(JsonNode.Parse(stored.Json)!, stored.Version, request.Version), objectPath[1..]), 200);
        }
        if (request.Method != HttpMethod.Put && request.Method != HttpMethod.Patch && request.Method != HttpMethod.Delete)
            return Status(OcpiStatus.ClientError, $"{request.Method} is not part of the {request.Module} receiver interface.", 405);
        JsonObject? body = null;
        if (request.Method != HttpMethod.Delete)
            try { body = JsonNode.Parse(request.Body) as JsonObject; }
            catch (JsonException) { return Status(OcpiStatus.InvalidParameters, "The body is not JSON."); }
        var before = default(StoredObject);
        var after = await store.ChangeAsync(key, current =>
        {
            before = current;
            return HubObjectChanges.Apply(current, key, objectPath, request.Method.Method, body, request.Version);
        }, ct);
        var changed = after is null ? before != null : !ReferenceEquals(after, before);
        if (changed) pushes.Start(key, objectPath, request.Method, request.Body, request.Version, request.CorrelationId);
        return Status(OcpiStatus.Success, null);
    }

    private async Task<RoutedAnswer> GetOneAsync(RoutedRequest request, string[] path, CancellationToken ct)
    {
        var (cpos, refusal) = await ReadableCposAsync(request, AgreementScope.Locations, ct);
        if (refusal != null) return Status(OcpiStatus.ClientError, refusal, 401); // as CpoOnly: the refusal the OpenAPI documents
        var found = await store.FindAsync(HubObjectKind.Location, path[0], cpos, ct);
        if (found.Count == 0) return Status(OcpiStatus.UnknownLocation, $"No Location {path[0]} is known to the hub for you.");
        if (found.Count > 1) return Status(OcpiStatus.InvalidParameters, $"Several CPOs have a Location {path[0]}: name one with OCPI-to-country-code and OCPI-to-party-id.");
        var node = Select(VersionTranslation.Node(JsonNode.Parse(found[0].Json)!, found[0].Version, request.Version), path[1..]);
        return node is null ? Status(OcpiStatus.UnknownLocation, $"Location {path[0]} has no such EVSE or Connector.") : Data(node, 200);
    }

    /// <summary>GET-all: one page of the stored objects of the CPOs the caller roams with, oldest change first.</summary>
    private async Task<RoutedAnswer> ListAsync(RoutedRequest request, HubObjectKind kind, CancellationToken ct)
    {
        var (cpos, refusal) = await ReadableCposAsync(request, StorePushes.Scope(kind), ct);
        if (refusal != null) return Status(OcpiStatus.ClientError, refusal, 401); // as CpoOnly: the refusal the OpenAPI documents
        var page = request.Page ?? new Pagination(0, 100, null, null);
        PageCursor? after = PageCursor.TryDecode(page.Cursor, out var c) ? c : null;
        var result = await store.ListAsync(new HubObjectQuery(kind, cpos, page.DateFrom, page.DateTo, page.Offset, page.Limit, after), ct);

        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, result.Items.Sum(i => i.Json.Length) + 128));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("data");
            w.WriteStartArray();
            foreach (var item in result.Items)
            {
                var json = Encoding.UTF8.GetBytes(item.Json);
                if (item.Version != request.Version && VersionTranslation.MayNeedTranslation(json, request.Version))
                    json = VersionTranslation.Body(json, item.Version, request.Version);
                w.WriteRawValue(json, skipInputValidation: true); // the database's jsonb text, or what the hub just serialized
            }
            w.WriteEndArray();
            w.WriteNumber("status_code", OcpiStatus.Success);
            w.WriteString("timestamp", UtcTimestampConverter.Format(clock.GetUtcNow()));
            w.WriteEndObject();
        }
        var returned = result.Items.Count;
        string? link = null;
        if (page.Offset + returned < result.Total && returned > 0)
        {
            var last = result.Items[^1];
            var cursor = new PageCursor(last.LastUpdated, last.Key.CountryCode, last.Key.PartyId, last.Key.Id).Encode();
            link = $"<{page.NextUrl(request.HubModuleUrl, returned, cursor)}>; rel=\"next\"";
        }
        return new RoutedAnswer(200, buffer.WrittenSpan.ToArray(), result.Total.ToString(CultureInfo.InvariantCulture),
            page.Limit.ToString(CultureInfo.InvariantCulture), link);
    }

    /// <summary>
    /// The CPOs whose objects the caller may read: every CPO role known to the hub (connected or not: the store serves a
    /// CPO that is down) that roams with the caller for the scope; with OCPI-to-* headers, the one CPO they name.
    /// </summary>
    private async Task<(IReadOnlyList<RoamingParty> Cpos, string? Refusal)> ReadableCposAsync(RoutedRequest request, AgreementScope scope, CancellationToken ct)
    {
        PartyRole? reader;
        if (request.FromCountryCode != null || request.FromPartyId != null)
        {
            // As ModuleRouter: OCPI-from-* must name a role of the caller's credentials.
            reader = request.FromCountryCode is { } fc && request.FromPartyId is { } fp ? request.Caller.FindRole(fc, fp) : null;
            if (reader is null) return ([], "OCPI-from-country-code / OCPI-from-party-id do not name a role of yours.");
        }
        else reader = request.Caller.Roles.FirstOrDefault(r => r.Role != Roles.Cpo) ?? request.Caller.Roles.FirstOrDefault();
        if (reader is null) return ([], "You have no role to read as.");
        var me = new RoamingParty(reader.CountryCode, reader.PartyId);
        var cpos = new List<RoamingParty>();
        var named = request.ToCountryCode != null && request.ToPartyId != null;
        foreach (var p in await parties.AllAsync(ct))
            foreach (var r in p.Roles)
            {
                if (r.Role != Roles.Cpo) continue;
                if (named && !r.SameParty(request.ToCountryCode!, request.ToPartyId!)) continue;
                var cpo = new RoamingParty(r.CountryCode.ToUpperInvariant(), r.PartyId.ToUpperInvariant());
                var decision = await agreements.DecideAsync(cpo, me, scope, ct);
                if (decision.Allowed) cpos.Add(cpo);
                else if (named) return ([], decision.Refusal);
            }
        return (cpos, null);
    }

    /// <summary>The EVSE or Connector a path names inside a Location ([] is the Location itself); null when there is none.</summary>
    private static JsonNode? Select(JsonNode location, string[] path)
    {
        JsonNode? node = location;
        if (path.Length >= 1) node = (node["evses"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(e => HubObjectChanges.Text(e["uid"]) == path[0]);
        if (path.Length >= 2) node = (node?["connectors"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => HubObjectChanges.Text(c["id"]) == path[1]);
        return node;
    }

    private RoutedAnswer Data(JsonNode? data, int httpStatus) =>
        data is null ? Status(OcpiStatus.UnknownLocation, "No such EVSE or Connector.")
            : new(httpStatus, OcpiResponses.Envelope(OcpiStatus.Success, data, OcpiJsonContext.Default.OcpiEnvelopeJsonNode, null, clock.GetUtcNow()));

    private RoutedAnswer Status(int status, string? message, int? httpStatus = null) =>
        new(httpStatus ?? OcpiStatus.HttpStatusFor(status), OcpiResponses.StatusEnvelope(status, message, clock.GetUtcNow()));
}
