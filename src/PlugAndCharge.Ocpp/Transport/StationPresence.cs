using System.Text.Json;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>A station connected to another instance of the service: which one, over which connection and OCPP version.</summary>
public sealed record RemoteStation(string StationId, string InstanceId, Guid ConnectionId, OcppVersion Version);

/// <summary>
/// Where the stations are across the instances of the service, and the relay of calls to the instance that holds a
/// station's WebSocket. The host implements it over PostgreSQL (a session table plus LISTEN/NOTIFY); the default knows
/// this instance only.
/// </summary>
public interface IStationPresence
{
    /// <summary>This instance now holds <paramref name="session"/>: the newest connection of a station wins, so a holder elsewhere drops its older one.</summary>
    Task ConnectedAsync(StationSession session, CancellationToken ct = default);

    Task DisconnectedAsync(StationSession session, CancellationToken ct = default);

    /// <summary>The live instance other than this one that holds the station, or null when none does.</summary>
    Task<RemoteStation?> LocateAsync(string stationId, CancellationToken ct = default);

    /// <summary><see cref="LocateAsync"/> for many stations in one look-up (those held by another live instance).</summary>
    Task<IReadOnlyDictionary<string, RemoteStation>> LocateAllAsync(IReadOnlyCollection<string> stationIds, CancellationToken ct = default);

    /// <summary>
    /// Has the holder send the CALL (2.0.1-shaped; wrapped in DataTransfer for 1.6 unless <paramref name="native16"/>) and
    /// returns the station's validated answer; failures as <see cref="OcppCallFailedException"/>.
    /// </summary>
    Task<JsonElement> CallAsync(RemoteStation station, string action, JsonElement payload, bool native16, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>Has the holder close that connection.</summary>
    Task DisconnectAsync(RemoteStation station, string reason, CancellationToken ct = default);
}

/// <summary>A single instance: a station is connected here or nowhere.</summary>
public sealed class LocalStationPresence : IStationPresence
{
    public Task ConnectedAsync(StationSession session, CancellationToken ct = default) => Task.CompletedTask;
    public Task DisconnectedAsync(StationSession session, CancellationToken ct = default) => Task.CompletedTask;
    public Task<RemoteStation?> LocateAsync(string stationId, CancellationToken ct = default) => Task.FromResult<RemoteStation?>(null);

    public Task<IReadOnlyDictionary<string, RemoteStation>> LocateAllAsync(IReadOnlyCollection<string> stationIds, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyDictionary<string, RemoteStation>>(new Dictionary<string, RemoteStation>());

    public Task<JsonElement> CallAsync(RemoteStation station, string action, JsonElement payload, bool native16, TimeSpan timeout, CancellationToken ct = default) =>
        throw new OcppCallFailedException(action, null, "the station is not connected", OcppCallFailure.NotConnected);

    public Task DisconnectAsync(RemoteStation station, string reason, CancellationToken ct = default) => Task.CompletedTask;
}

/// <summary>A station reachable from this instance: over its own connection here, or through the instance that holds it.</summary>
public sealed record StationLocation(string StationId, OcppVersion Version, StationSession? Local, RemoteStation? Remote);
