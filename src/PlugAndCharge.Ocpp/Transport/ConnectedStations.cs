using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>The stations connected to this instance, by station id. A new connection of a station replaces its old one.</summary>
public sealed class ConnectedStations
{
    private readonly ConcurrentDictionary<string, StationSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public StationSession? Find(string stationId) => _sessions.TryGetValue(stationId, out var s) && s.IsOpen ? s : null;

    public IReadOnlyCollection<string> StationIds => _sessions.Keys.ToList();

    /// <summary>Waits until the station is connected, or returns null after <paramref name="timeout"/>.</summary>
    public async Task<StationSession?> WaitForAsync(string stationId, TimeSpan timeout, CancellationToken ct = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            if (Find(stationId) is { } s) return s;
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) >= timeout) return null;
            await Task.Delay(50, ct);
        }
    }

    internal async Task AddAsync(StationSession session)
    {
        StationSession? previous = null;
        _sessions.AddOrUpdate(session.StationId, session, (_, old) => { previous = old; return session; });
        if (previous != null && !ReferenceEquals(previous, session))
            await previous.CloseAsync(WebSocketCloseStatus.PolicyViolation, "Replaced by a new connection of the same station.");
    }

    internal void Remove(StationSession session) => _sessions.TryRemove(new KeyValuePair<string, StationSession>(session.StationId, session));
}
