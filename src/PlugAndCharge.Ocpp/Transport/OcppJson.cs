using System.Text.Json;
using System.Text.Json.Serialization;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>How payload records map to OCPP JSON: camelCase names, absent rather than null optional fields.</summary>
public static class OcppJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static T Read<T>(JsonElement payload) =>
        payload.Deserialize<T>(Options) ?? throw new OcppCallErrorException(OcppErrorCode.FormatViolation, "Empty payload.");

    public static byte[] Write(object payload) => JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), Options);

    /// <summary>OCPP date-time: RFC 3339 in UTC with milliseconds (OCPP-J 2.0.1 §4.1.5).</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
