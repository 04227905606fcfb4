using System.Text.Json;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// OCPP 1.6 Plug &amp; Charge: the 2.0.1 certificate messages inside DataTransfer with vendorId
/// org.openchargealliance.iso15118pnc, messageId = the 2.0.1 action and data = the 2.0.1 payload as a JSON string
/// (docs/domain.md §6). The inner payload is validated against the 2.0.1 schema; a violation answers the CALLERROR it would
/// in 2.0.1, in 1.6's spelling. The answer is DataTransfer Accepted with the 2.0.1 response as its data.
/// </summary>
public sealed class PncDataTransferHandler(OcppOptions options) : IOcppHandlerModule
{
    public void Register(OcppDispatcher dispatcher) => dispatcher.Register("DataTransfer", HandleAsync, OcppVersion.V16);

    private async ValueTask<object> HandleAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var request = OcppJson.Read<DataTransferRequest>(payload);
        if (request.VendorId != Iso15118Pnc.VendorId) return new DataTransferResponse("UnknownVendorId");
        if (request.MessageId == null || !Iso15118Pnc.StationMessages.Contains(request.MessageId)) return new DataTransferResponse("UnknownMessageId");
        if (request.Data == null) throw new OcppCallErrorException(OcppErrorCode.OccurrenceConstraintViolation, $"DataTransfer {request.MessageId} needs data.");
        JsonElement inner;
        try
        {
            using var doc = JsonDocument.Parse(request.Data, new JsonDocumentOptions { MaxDepth = 64 });
            inner = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new OcppCallErrorException(OcppErrorCode.FormatViolation, "DataTransfer data is not a JSON document.");
        }
        if (inner.ValueKind != JsonValueKind.Object) throw new OcppCallErrorException(OcppErrorCode.FormatViolation, "DataTransfer data must be a JSON object.");
        if (request.Data.Length > options.MaxMessageBytes) throw new OcppCallErrorException(OcppErrorCode.FormatViolation, "DataTransfer data is too large.");

        var response = await context.Session.InvokeAsync(request.MessageId, inner, viaDataTransfer: true, ct, inner2 =>
        {
            // Work the inner handler schedules after its response belongs to the outer DataTransfer's response.
            context.AfterResponse(async token =>
            {
                if (inner2.TakeAfterResponse() is { } after) await after(token);
            });
        });
        return new DataTransferResponse("Accepted", JsonSerializer.Serialize(response, response.GetType(), OcppJson.Options));
    }
}
