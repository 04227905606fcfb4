using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Operator;

/// <summary>
/// How an operator command finds its station and calls it, wherever it is connected, with every way it can fail as a
/// <see cref="StationCommandException"/> the REST layer maps to its status.
/// </summary>
internal static class StationCommandCalls
{
    public static async Task<StationLocation> LocateForCommandAsync(this ConnectedStations stations, string stationId, CancellationToken ct)
    {
        try
        {
            return await stations.LocateAsync(stationId, ct) ?? throw Offline(stationId);
        }
        catch (System.Data.Common.DbException e)
        {
            throw new StationCommandException("Where the station is connected cannot be looked up right now: " + e.Message, e, StationCommandFailure.Unavailable);
        }
    }

    /// <param name="native">Sent as is in every version (a 1.6 message of its own), not wrapped in DataTransfer for 1.6.</param>
    public static async Task<T> CommandAsync<T>(this ConnectedStations stations, StationLocation station, string action, object payload, bool native = false, CancellationToken ct = default)
    {
        try
        {
            return await stations.CallAsync<T>(station, action, payload, native16: native, ct: ct);
        }
        catch (System.Data.Common.DbException e)
        {
            throw new StationCommandException($"Station {station.StationId}: the command could not be relayed to the instance holding it: {e.Message}", e, StationCommandFailure.Unavailable);
        }
        catch (OcppCallFailedException e)
        {
            if (e.Failure == OcppCallFailure.NotConnected) throw Offline(station.StationId);
            throw new StationCommandException($"Station {station.StationId}: {e.Message}", e, e.Failure switch
            {
                OcppCallFailure.TimedOut => StationCommandFailure.TimedOut,
                OcppCallFailure.Disconnected => StationCommandFailure.Disconnected,
                _ => StationCommandFailure.Refused,
            });
        }
    }

    private static StationCommandException Offline(string stationId) =>
        new($"Station {stationId} is not connected.", failure: StationCommandFailure.Offline);
}
