using System.Text.Json;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// BootNotification, Heartbeat and StatusNotification, so real stations can connect and stay connected; the boot's
/// vendor, model, serial number and firmware are recorded. The serial is kept as reported only: it never names a
/// certificate (the CPO registers the serial that may, see <see cref="StationRecord.SerialNumber"/>). A boot the instance
/// cannot take on now (<see cref="BootAdmission"/>) is answered Pending with a retry interval, one whose station was
/// deleted or disabled meanwhile Rejected; Accepted carries the heartbeat interval.
/// </summary>
public sealed class CoreHandlers(IStationStore stations, OcppOptions options, BootAdmission admission, TimeProvider clock) : IOcppHandlerModule
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
        if (!admission.TryEnter())
        {
            // B02.FR.01: the station boots again after the interval; nothing of it is read or written meanwhile.
            context.Session.Registered(StationRegistration.Pending);
            return Answer(context.Version, "Pending", now, admission.RetryAfterSeconds());
        }
        try
        {
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
            var updated = await stations.RecordBootAsync(context.StationId, boot, ct);
            if (updated is not { Disabled: false })
            {
                // Withdrawn since the login (its connection is being closed as well): B03, it may try again after the interval.
                context.Session.Registered(StationRegistration.Rejected);
                return Answer(context.Version, "Rejected", now, options.HeartbeatIntervalSeconds);
            }
            context.Session.Refresh(updated);
            context.Session.Registered(StationRegistration.Accepted);
            return Answer(context.Version, "Accepted", now, options.HeartbeatIntervalSeconds);
        }
        finally
        {
            admission.Exit();
        }
    }

    private static object Answer(OcppVersion version, string status, DateTimeOffset now, int interval) => version == OcppVersion.V16
        ? new { status, currentTime = OcppJson.Time(now), interval }
        : new { currentTime = OcppJson.Time(now), interval, status };

    private ValueTask<object> Heartbeat(OcppCallContext context, JsonElement payload, CancellationToken ct) =>
        ValueTask.FromResult<object>(new { currentTime = OcppJson.Time(clock.GetUtcNow()) });

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
