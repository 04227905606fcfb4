using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// The stations connected to this instance, by station id, and through <see cref="IStationPresence"/> those connected to
/// the other instances: a call for a station is sent over its connection here or relayed to the instance that holds it.
/// A new connection of a station replaces its old one, here or on another instance.
/// </summary>
public sealed class ConnectedStations(IStationPresence presence, ILogger<ConnectedStations>? log = null)
{
    private readonly ConcurrentDictionary<string, StationSession> _sessions = new(StringComparer.Ordinal);
    private readonly ILogger _log = (ILogger?)log ?? NullLogger.Instance;

    public ConnectedStations() : this(new LocalStationPresence()) { }

    public int Count => _sessions.Count;

    public StationSession? Find(string stationId) => _sessions.TryGetValue(stationId, out var s) && s.IsOpen ? s : null;

    public IReadOnlyCollection<string> StationIds => _sessions.Keys.ToList();

    /// <summary>The open sessions of this instance.</summary>
    public IReadOnlyCollection<StationSession> Sessions => _sessions.Values.Where(s => s.IsOpen).ToList();

    /// <summary>Waits until the station is connected here, or returns null after <paramref name="timeout"/>.</summary>
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

    /// <summary>The station, connected here or to another live instance; null when it is connected nowhere.</summary>
    public async Task<StationLocation?> LocateAsync(string stationId, CancellationToken ct = default)
    {
        if (Find(stationId) is { } local) return new StationLocation(stationId, local.Version, local, null);
        return await presence.LocateAsync(stationId, ct) is { } remote ? new StationLocation(stationId, remote.Version, null, remote) : null;
    }

    /// <summary>The OCPP version of each of <paramref name="stationIds"/> connected anywhere (one database look-up for those not connected here).</summary>
    public async Task<IReadOnlyDictionary<string, OcppVersion>> ConnectedVersionsAsync(IReadOnlyCollection<string> stationIds, CancellationToken ct = default)
    {
        var versions = new Dictionary<string, OcppVersion>(StringComparer.Ordinal);
        var elsewhere = new List<string>();
        foreach (var id in stationIds)
            if (Find(id) is { } local) versions[id] = local.Version;
            else elsewhere.Add(id);
        if (elsewhere.Count > 0)
            foreach (var (id, remote) in await presence.LocateAllAsync(elsewhere, ct))
                versions[id] = remote.Version;
        return versions;
    }

    /// <summary>
    /// Sends a 2.0.1-shaped CALL to the station wherever it is connected (see <see cref="StationCalls"/>; natively for a 1.6
    /// security-extension message when <paramref name="native16"/>) and returns its answer.
    /// </summary>
    public async Task<T> CallAsync<T>(StationLocation station, string action, object payload, bool native16 = false, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        if (station.Local is { } session)
            return native16
                ? await StationCalls.CallNativeAsync<T>(session, action, payload, timeout, ct)
                : await StationCalls.CallAsync<T>(session, action, payload, timeout, ct);
        var json = JsonSerializer.SerializeToElement(payload, payload.GetType(), OcppJson.Options);
        return OcppJson.Read<T>(await presence.CallAsync(station.Remote!, action, json, native16, timeout ?? DefaultCallTimeout, ct));
    }

    /// <summary>How long the holder waits for the station when the caller gives no timeout (OcppOptions.CallTimeout of the holder).</summary>
    public TimeSpan DefaultCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Ends the station's connection wherever it is held; false when it was connected nowhere.</summary>
    public async Task<bool> DisconnectAsync(string stationId, string reason, CancellationToken ct = default)
    {
        var found = await LocateAsync(stationId, ct);
        if (found?.Local is { } session) await session.CloseAsync(WebSocketCloseStatus.PolicyViolation, reason);
        else if (found?.Remote is { } remote) await presence.DisconnectAsync(remote, reason, ct);
        return found != null;
    }

    /// <summary>Runs a call another instance relayed for a station connected here (the holder's side of <see cref="IStationPresence.CallAsync"/>).</summary>
    public async Task<JsonElement> CallForPeerAsync(string stationId, string action, JsonElement payload, bool native16, TimeSpan timeout, CancellationToken ct = default)
    {
        var session = Find(stationId) ?? throw new OcppCallFailedException(action, null, "the station is not connected", OcppCallFailure.NotConnected);
        return native16
            ? await StationCalls.CallNativeAsync<JsonElement>(session, action, payload, timeout, ct)
            : await StationCalls.CallAsync<JsonElement>(session, action, payload, timeout, ct);
    }

    /// <summary>Closes one connection held here, when another instance asks (a newer connection of the station, or its deletion).</summary>
    public async Task CloseConnectionAsync(string stationId, Guid connectionId, string reason)
    {
        if (_sessions.TryGetValue(stationId, out var s) && s.ConnectionId == connectionId)
            await s.CloseAsync(WebSocketCloseStatus.PolicyViolation, reason);
    }

    internal async Task AddAsync(StationSession session)
    {
        StationSession? previous = null;
        _sessions.AddOrUpdate(session.StationId, session, (_, old) => { previous = old; return session; });
        if (previous != null && !ReferenceEquals(previous, session))
            await previous.CloseAsync(WebSocketCloseStatus.PolicyViolation, "Replaced by a new connection of the same station.");
        try
        {
            await presence.ConnectedAsync(session);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            // The station is served here all the same; only other instances cannot reach it until the next heartbeat re-announces it.
            _log.LogWarning("Station {StationId}: could not record its connection for the other instances: {Error}", session.StationId, e.Message);
        }
    }

    internal async Task RemoveAsync(StationSession session)
    {
        _sessions.TryRemove(new KeyValuePair<string, StationSession>(session.StationId, session));
        try
        {
            await presence.DisconnectedAsync(session);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            _log.LogWarning("Station {StationId}: could not clear its connection record: {Error}", session.StationId, e.Message);
        }
    }
}
