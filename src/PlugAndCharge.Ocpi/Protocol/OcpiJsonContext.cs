using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>Source-generated serialization for the OCPI objects the hub writes (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(OcpiEnvelope<object>))]
[JsonSerializable(typeof(OcpiEnvelope<List<VersionEntry>>))]
[JsonSerializable(typeof(OcpiEnvelope<VersionDetails>))]
[JsonSerializable(typeof(OcpiEnvelope<Credentials>))]
[JsonSerializable(typeof(OcpiEnvelope<List<ClientInfo>>))]
[JsonSerializable(typeof(OcpiEnvelope<AuthorizationInfo>))]
[JsonSerializable(typeof(OcpiEnvelope<JsonNode>))]
[JsonSerializable(typeof(OcpiEnvelope<List<JsonNode>>))]
[JsonSerializable(typeof(OcpiEnvelopeIn))]
[JsonSerializable(typeof(Credentials))]
[JsonSerializable(typeof(ClientInfo))]
[JsonSerializable(typeof(LocationReferences))]
[JsonSerializable(typeof(List<VersionEntry>))]
[JsonSerializable(typeof(VersionDetails))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class OcpiJsonContext : JsonSerializerContext;

/// <summary>OCPI DateTime: UTC, ISO 8601 with 'Z' (2.2.1 §16.2: "All timestamps are formatted as string(25) ... UTC").</summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString();
        // Peers omit the zone ("2015-06-29T20:39:09"): OCPI says timestamps are UTC, so read them as UTC.
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t : throw new JsonException($"'{s}' is not an OCPI timestamp.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static bool TryParse(string? s, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
