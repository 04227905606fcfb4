using System.Text.Json;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpp.EvCertificates;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// Get15118EVCertificate (OCPP 2.0.1 M01/M02, 2.1 M01/M02): hands the car's EXI request to contract provisioning and
/// answers within <see cref="OcppOptions.EvCertificateTimeout"/>. exiResponse is always present, also on Failed.
/// A 2.0.1 station must allow responses longer than the schema's 5600 characters: set the device-model variable
/// OCPPCommCtrlr.FieldLength for Get15118EVCertificateResponse.exiResponse (see this project's README).
/// An Update past the station's budget (<see cref="OcppOptions.EvCertificateUpdatesPerStation"/>) is answered Failed with
/// reasonCode RateLimitExceeded and contract provisioning's signed FAILED response, without any contract work; so is a
/// request the database could not serve (reasonCode DatabaseUnavailable): the car needs a valid message with its
/// ResponseCode (ISO 15118-2 [V2G2-100]), not an empty exiResponse.
/// </summary>
public sealed class EvCertificateHandlers(IEvCertificateService service, OcppOptions options, StationThrottle throttle, StorageFaults faults,
    ILogger<EvCertificateHandlers> log) : IOcppHandlerModule
{
    public void Register(OcppDispatcher dispatcher) => dispatcher.Register("Get15118EVCertificate", HandleAsync, OcppVersion.V201, OcppVersion.V21);

    private async ValueTask<object> HandleAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var request = OcppJson.Read<Get15118EVCertificateRequest>(payload);
        var action = request.Action == "Update" ? EvCertificateAction.Update : EvCertificateAction.Install;
        var twoOne = context.Version == OcppVersion.V21 && !context.ViaDataTransfer;
        if (action == EvCertificateAction.Update && !throttle.TryEvCertificateUpdate(context.StationId))
        {
            var refused = await service.RefuseAsync(Request(context, request, action), "RateLimitExceeded", ct);
            return new Get15118EVCertificateResponse("Failed", refused.ExiResponse, new StatusInfo("RateLimitExceeded"));
        }
        EvCertificateResult result;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(options.EvCertificateTimeout);
        try
        {
            result = await service.ProcessAsync(Request(context, request, action), budget.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            log.LogWarning("Station {StationId}: contract provisioning did not answer within {Budget}.", context.StationId, options.EvCertificateTimeout);
            result = new EvCertificateResult(false, "", "Timeout");
        }
        catch (Exception e) when (e is not OperationCanceledException && faults.IsUnavailable(e))
        {
            log.LogWarning("Station {StationId}: contract provisioning failed, the database is unavailable: {Error}", context.StationId, e.Message);
            result = await RefuseAsync(context, request, action, StorageFaults.ReasonCode, ct) ?? new EvCertificateResult(false, "", StorageFaults.ReasonCode);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Station {StationId}: contract provisioning failed.", context.StationId);
            result = new EvCertificateResult(false, "", "InternalError");
        }
        return new Get15118EVCertificateResponse(
            result.Accepted ? "Accepted" : "Failed",
            result.ExiResponse,
            result.ReasonCode != null ? new StatusInfo(Truncate(result.ReasonCode, 20)) : null,
            twoOne ? result.RemainingContracts : null);
    }

    /// <summary>Contract provisioning's signed FAILED answer without contract work; null when even that fails (the signer is out of reach too).</summary>
    private async Task<EvCertificateResult?> RefuseAsync(OcppCallContext context, Get15118EVCertificateRequest request, EvCertificateAction action, string reasonCode, CancellationToken ct)
    {
        try { return await service.RefuseAsync(Request(context, request, action), reasonCode, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Station {StationId}: not even a FAILED answer could be built.", context.StationId);
            return null;
        }
    }

    private static EvCertificateRequest Request(OcppCallContext context, Get15118EVCertificateRequest request, EvCertificateAction action) =>
        new(context.StationId, context.Station.CpoId, request.Iso15118SchemaVersion, action, request.ExiRequest,
            request.MaximumContractCertificateChains, request.PrioritizedEmaids);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
