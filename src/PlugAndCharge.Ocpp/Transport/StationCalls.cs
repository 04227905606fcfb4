using System.Text.Json;
using PlugAndCharge.Ocpp.Messages;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// Sends a 2.0.1-shaped certificate message to a station in its own version: as is for 2.0.1/2.1, wrapped in
/// DataTransfer (vendor org.openchargealliance.iso15118pnc, data = the payload as a JSON string) for 1.6, whose answer
/// is unwrapped and validated against the 2.0.1 response schema.
/// </summary>
public static class StationCalls
{
    public static async Task<T> CallAsync<T>(StationSession session, string action, object payload, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        JsonElement result;
        if (session.Version == OcppVersion.V16)
        {
            var wrapped = new DataTransferRequest(Iso15118Pnc.VendorId, action, JsonSerializer.Serialize(payload, payload.GetType(), OcppJson.Options));
            var answer = OcppJson.Read<DataTransferResponse>(await session.CallAsync("DataTransfer", wrapped, timeout, ct));
            if (answer.Status != "Accepted" || answer.Data == null)
                throw new OcppCallFailedException(action, null, $"DataTransfer answered {answer.Status}{(answer.Data == null && answer.Status == "Accepted" ? " without data" : "")}.");
            try
            {
                using var doc = JsonDocument.Parse(answer.Data);
                result = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new OcppCallFailedException(action, OcppErrorCode.FormatViolation, "DataTransfer data is not JSON.");
            }
            if (OcppSchemaCatalog.Official.ValidateResponse(OcppVersion.V201, action, result) is { } violation)
                throw new OcppCallFailedException(action, violation.Code, "the station's answer breaks the schema: " + violation.Description);
        }
        else
        {
            result = await session.CallAsync(action, payload, timeout, ct);
        }
        return OcppJson.Read<T>(result);
    }

    /// <summary>A 1.6 security-extension message sent natively (not through DataTransfer).</summary>
    public static async Task<T> CallNativeAsync<T>(StationSession session, string action, object payload, TimeSpan? timeout = null, CancellationToken ct = default) =>
        OcppJson.Read<T>(await session.CallAsync(action, payload, timeout, ct));
}
