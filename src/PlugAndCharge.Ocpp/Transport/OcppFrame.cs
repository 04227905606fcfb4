using System.Text;
using System.Text.Json;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>One OCPP-J RPC message (OCPP-J 2.0.1 §4): CALL [2,id,action,payload], CALLRESULT [3,id,payload], CALLERROR [4,id,code,description,details].</summary>
public abstract record OcppFrame(string MessageId);

public sealed record CallFrame(string MessageId, string Action, JsonElement Payload) : OcppFrame(MessageId);

public sealed record CallResultFrame(string MessageId, JsonElement Payload) : OcppFrame(MessageId);

public sealed record CallErrorFrame(string MessageId, string ErrorCode, string Description, JsonElement Details) : OcppFrame(MessageId);

/// <summary>A frame that is not a valid RPC message: answered with a CALLERROR carrying <see cref="MessageId"/> ("-1" when unreadable).</summary>
public sealed class OcppFrameException(OcppErrorCode code, string messageId, string description) : Exception(description)
{
    public OcppErrorCode Code { get; } = code;
    public string MessageId { get; } = messageId;
}

public static class OcppFrames
{
    public const int Call = 2;
    public const int CallResult = 3;
    public const int CallError = 4;
    /// <summary>OCPP 2.1 adds CALLRESULTERROR (5) and SEND (6): neither is ever answered.</summary>
    public const int CallResultError = 5;
    public const int Send = 6;

    /// <summary>"up to 36 characters, to allow for GUIDs" (OCPP-J 2.0.1 §4.1.3; 1.6 §4.1.3).</summary>
    public const int MaxMessageIdLength = 36;

    /// <summary>The id used in a CALLERROR when the offending message's id cannot be read (OCPP-J 2.0.1 §4.3).</summary>
    public const string UnknownMessageId = "-1";

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Parses a text frame. Payloads are cloned, so the result does not depend on <paramref name="utf8"/>.</summary>
    /// <returns>null for frame types that must be ignored (2.1 SEND and CALLRESULTERROR).</returns>
    public static OcppFrame? Parse(ReadOnlyMemory<byte> utf8, OcppVersion version)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, UnknownMessageId, "Message is not valid JSON: " + e.Message);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
                throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, UnknownMessageId, "Message must be a JSON array [type, id, ...].");
            var id = root.GetArrayLength() > 1 && root[1].ValueKind == JsonValueKind.String ? root[1].GetString()! : null;
            if (root[0].ValueKind != JsonValueKind.Number || !root[0].TryGetInt32(out var type))
                throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id ?? UnknownMessageId, "The message type must be a number.");
            if (id == null)
                throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, UnknownMessageId, "The message id must be a string.");
            if (id.Length == 0 || id.Length > MaxMessageIdLength)
                throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id, $"The message id must be 1 to {MaxMessageIdLength} characters.");

            switch (type)
            {
                case Call:
                    if (root.GetArrayLength() != 4)
                        throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id, "A CALL is [2, messageId, action, payload].");
                    if (root[2].ValueKind != JsonValueKind.String || string.IsNullOrEmpty(root[2].GetString()))
                        throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id, "The action must be a non-empty string.");
                    if (root[3].ValueKind != JsonValueKind.Object)
                        throw new OcppFrameException(OcppErrorCode.FormatViolation, id, "The payload must be a JSON object.");
                    return new CallFrame(id, root[2].GetString()!, root[3].Clone());
                case CallResult:
                    if (root.GetArrayLength() != 3 || root[2].ValueKind != JsonValueKind.Object)
                        throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id, "A CALLRESULT is [3, messageId, payload].");
                    return new CallResultFrame(id, root[2].Clone());
                case CallError:
                    if (root.GetArrayLength() < 4 || root[2].ValueKind != JsonValueKind.String)
                        throw new OcppFrameException(OcppErrorCode.RpcFrameworkError, id, "A CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails].");
                    var description = root[3].ValueKind == JsonValueKind.String ? root[3].GetString()! : "";
                    var details = root.GetArrayLength() > 4 ? root[4].Clone() : default;
                    return new CallErrorFrame(id, root[2].GetString()!, description, details);
                case CallResultError or Send when version == OcppVersion.V21:
                    return null;
                default:
                    throw new OcppFrameException(OcppErrorCode.MessageTypeNotSupported, id, $"Message type {type} is not supported.");
            }
        }
    }

    public static byte[] WriteCall(string messageId, string action, ReadOnlySpan<byte> payloadJson)
    {
        var buffer = new MemoryStream(payloadJson.Length + 64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteNumberValue(Call);
            w.WriteStringValue(messageId);
            w.WriteStringValue(action);
            w.WriteRawValue(payloadJson, skipInputValidation: true);
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }

    public static byte[] WriteCallResult(string messageId, ReadOnlySpan<byte> payloadJson)
    {
        var buffer = new MemoryStream(payloadJson.Length + 48);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteNumberValue(CallResult);
            w.WriteStringValue(messageId);
            w.WriteRawValue(payloadJson, skipInputValidation: true);
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }

    public static byte[] WriteCallError(string messageId, OcppErrorCode code, OcppVersion version, string description)
    {
        // Descriptions are for people; keep them short (1.6 and 2.0.1 say "SHOULD NOT exceed 255 characters").
        if (description.Length > 255) description = description[..252] + "...";
        var buffer = new MemoryStream(128 + Encoding.UTF8.GetMaxByteCount(description.Length));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteNumberValue(CallError);
            w.WriteStringValue(messageId);
            w.WriteStringValue(code.ToWire(version));
            w.WriteStringValue(description);
            w.WriteStartObject();
            w.WriteEndObject();
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }
}
