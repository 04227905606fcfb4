using System.Text.Json;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// BootNotification, Heartbeat and StatusNotification, accepted so real stations can connect and stay connected; the
/// boot's vendor, model, serial number and firmware are recorded. The serial is kept as reported only: it never names a
/// certificate (the CPO registers the serial that may, see <see cref="StationRecord.SerialNumber"/>).
/// </summary>
public sealed class CoreHandlers(IStationStore stations, OcppOptions options, TimeProvider clock) : IOcppHandlerModule
{
    public void Register(OcppDispatcher dispatcher)
    {
        dispatcher.Register("BootNotification", BootAsync, OcppVersion.V16, OcppVersion.V201, OcppVersion.V21);
        dispatcher.Register("Heartbeat", Heartbeat, OcppVersion.V16, OcppVersion.V201, OcppVersion.V21);
        dispatcher.Register("StatusNotification", (_, _, _) => ValueTask.FromResult<object>(new { }), OcppVersion.V16, OcppVersion.V201, OcppVersion.V21);
    }

    private async ValueTask<object> BootAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        StationBoot boot;
        if (context.Version == OcppVersion.V16)
        {
            boot = new StationBoot(Text(payload, "chargePointVendor"), Text(payload, "chargePointModel"),
                Text(payload, "chargePointSerialNumber") ?? Text(payload, "chargeBoxSerialNumber"), Text(payload, "firmwareVersion"), now);
        }
        else
        {
            var cs = payload.GetProperty("chargingStation");
            boot = new StationBoot(Text(cs, "vendorName"), Text(cs, "model"), Text(cs, "serialNumber"), Text(cs, "firmwareVersion"), now);
        }
        await stations.RecordBootAsync(context.StationId, boot, ct);
        if (await stations.FindAsync(context.StationId, ct) is { } updated) context.Session.Refresh(updated);
        return context.Version == OcppVersion.V16
            ? new { status = "Accepted", currentTime = OcppJson.Time(now), interval = options.HeartbeatIntervalSeconds }
            : new { currentTime = OcppJson.Time(now), interval = options.HeartbeatIntervalSeconds, status = "Accepted" };
    }

    private ValueTask<object> Heartbeat(OcppCallContext context, JsonElement payload, CancellationToken ct) =>
        ValueTask.FromResult<object>(new { currentTime = OcppJson.Time(clock.GetUtcNow()) });

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
