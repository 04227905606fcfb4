using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Locations;

/// <summary>Why a CPO's push was not applied, as the OCPI status it answers with.</summary>
public sealed class HubObjectRefused(int ocpiStatus, string message) : Exception(message)
{
    public int OcpiStatus { get; } = ocpiStatus;
}

/// <summary>
/// A CPO's push to the locations or tariffs receiver interface (2.2.1/2.3.0 §8.2.2, §11.2.2) applied to the stored
/// object: PUT replaces a Location, EVSE, Connector or Tariff; PATCH changes the fields it carries. An EVSE or Connector
/// lives inside its Location's document, so the Location's last_updated moves with it (§8.2.2.2: "the last_updated of
/// the Location ... has to be updated too"). Objects already newer than the push are kept.
/// </summary>
public static class HubObjectChanges
{
    /// <param name="path">The object's path below the CPO: [location id, evse uid?, connector id?] or [tariff id].</param>
    /// <returns>The new state, the stored one when the push is older than it, or null for a deleted tariff.</returns>
    public static StoredObject? Apply(StoredObject? stored, HubObjectKey key, string[] path, string method, JsonObject? body, OcpiVersion version)
    {
        if (method == "DELETE")
        {
            if (key.Kind != HubObjectKind.Tariff || path.Length != 1) throw new HubObjectRefused(OcpiStatus.InvalidParameters, "Only a Tariff can be deleted.");
            return null;
        }
        if (body is null) throw new HubObjectRefused(OcpiStatus.InvalidParameters, "The body must be a JSON object.");
        var pushed = LastUpdated(body) ?? throw new HubObjectRefused(OcpiStatus.NotEnoughInformation, "The object must carry last_updated.");
        var current = stored is null ? null
            : (JsonObject)VersionTranslation.Node(JsonNode.Parse(stored.Json)!, stored.Version, version);
        if (stored != null && pushed < stored.LastUpdated && path.Length == 1 && method == "PUT") return stored;

        JsonObject result;
        if (path.Length == 1)
        {
            if (method == "PUT")
            {
                CheckIdentity(body, key);
                result = body;
            }
            else result = Merge(current ?? throw Unknown(key), body);
        }
        else
        {
            if (key.Kind != HubObjectKind.Location || path.Length > 3) throw new HubObjectRefused(OcpiStatus.InvalidParameters, "No such object path.");
            result = current ?? throw Unknown(key);
            var evses = result["evses"] as JsonArray ?? (JsonArray)(result["evses"] = new JsonArray());
            var evse = Find(evses, "uid", path[1]);
            if (path.Length == 2)
            {
                if (method == "PUT")
                {
                    if (Text(body["uid"]) != path[1]) throw new HubObjectRefused(OcpiStatus.InvalidParameters, "The EVSE's uid must match the URL.");
                    Replace(evses, evse, body);
                }
                else Merge(evse ?? throw new HubObjectRefused(OcpiStatus.UnknownLocation, $"Location {key.Id} has no EVSE {path[1]}."), body);
            }
            else
            {
                if (evse is null) throw new HubObjectRefused(OcpiStatus.UnknownLocation, $"Location {key.Id} has no EVSE {path[1]}.");
                var connectors = evse["connectors"] as JsonArray ?? (JsonArray)(evse["connectors"] = new JsonArray());
                var connector = Find(connectors, "id", path[2]);
                if (method == "PUT")
                {
                    if (Text(body["id"]) != path[2]) throw new HubObjectRefused(OcpiStatus.InvalidParameters, "The Connector's id must match the URL.");
                    Replace(connectors, connector, body);
                }
                else Merge(connector ?? throw new HubObjectRefused(OcpiStatus.UnknownLocation, $"EVSE {path[1]} has no Connector {path[2]}."), body);
                evse["last_updated"] = Later(evse, pushed);
            }
            result["last_updated"] = Later(result, pushed);
        }
        var lastUpdated = LastUpdated(result) ?? pushed;
        return new StoredObject(key, version, lastUpdated, result.ToJsonString());
    }

    private static HubObjectRefused Unknown(HubObjectKey key) =>
        new(OcpiStatus.UnknownLocation, $"The hub holds no {key.Kind} {key.Id} of {key.Cpo}: PUT it first.");

    private static void CheckIdentity(JsonObject body, HubObjectKey key)
    {
        if (!string.Equals(Text(body["country_code"]), key.CountryCode, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(Text(body["party_id"]), key.PartyId, StringComparison.OrdinalIgnoreCase)
            || Text(body["id"]) != key.Id)
            throw new HubObjectRefused(OcpiStatus.InvalidParameters, "country_code, party_id and id of the object must match the URL.");
    }

    private static JsonObject Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (k, v) in patch) target[k] = v?.DeepClone();
        return target;
    }

    private static JsonObject? Find(JsonArray list, string idField, string id) =>
        list.OfType<JsonObject>().FirstOrDefault(o => Text(o[idField]) == id);

    private static void Replace(JsonArray list, JsonObject? existing, JsonObject replacement)
    {
        var copy = replacement.DeepClone();
        if (existing is null) list.Add(copy);
        else list[list.IndexOf(existing)] = copy;
    }

    private static string Later(JsonObject o, DateTimeOffset pushed) =>
        UtcTimestampConverter.Format(LastUpdated(o) is { } t && t > pushed ? t : pushed);

    /// <summary>A string field, or null when it is missing or not a string (a CPO's malformed object is refused, not a 500).</summary>
    public static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static DateTimeOffset? LastUpdated(JsonObject o) =>
        o["last_updated"] is JsonValue v && v.TryGetValue<string>(out var s) && UtcTimestampConverter.TryParse(s, out var t) ? t : null;
}
