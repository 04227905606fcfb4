using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// One sweep over the connected stations instead of a keep-alive timer per connection: a station sends at least a
/// Heartbeat every interval it was given (OCPP 2.0.1 B04, 1.6 §4.6), so one silent for longer than
/// <see cref="OcppOptions.StationSilenceLimit"/> has gone without closing (power cut, lost network) and its connection
/// is closed, freeing its session; a live station reconnects. Its own WebSocket pings keep its NAT open.
/// </summary>
public sealed class SilentStationSweeper(ConnectedStations connected, OcppOptions options, TimeProvider clock, ILogger<SilentStationSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var limit = options.StationSilenceLimit;
            try { await Task.Delay(limit / 4 < TimeSpan.FromSeconds(30) ? limit / 4 : TimeSpan.FromSeconds(30), clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
            foreach (var session in connected.Sessions)
            {
                if (clock.GetElapsedTime(session.LastHeard) <= limit) continue;
                log.LogInformation("Station {StationId}: nothing received for {Silence:0} s, closing its connection.", session.StationId, clock.GetElapsedTime(session.LastHeard).TotalSeconds);
                _ = session.CloseAsync(WebSocketCloseStatus.PolicyViolation, "No message within the heartbeat interval.");
            }
        }
    }
}
