using Microsoft.Extensions.Hosting;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Storage.Ocpp;

namespace PlugAndCharge.Server.Hosting;

/// <summary>Keeps this instance's heartbeat and LISTEN connection for the stations shared by all instances; on a clean stop its stations are released.</summary>
public sealed class StationPresenceService(PostgresStationPresence presence, ConnectedStations connected) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => presence.RunAsync(connected, stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await presence.LeaveAsync(timeout.Token);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The other instances stop counting on us once our heartbeat is older than InstanceTimeout.
        }
    }
}
