using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Operator;

/// <param name="Status">What the station answered (SetVariableStatusEnumType / 1.6 ConfigurationStatus); null when it did not answer.</param>
/// <param name="Stored">Whether the new password's record is now the station's current one.</param>
/// <param name="Failure">Why the station did not answer, when it did not.</param>
/// <param name="PreviousValidUntil">When stored: until when the replaced password still logs the station in (unless it logs in with the new one first).</param>
public sealed record PasswordRotation(string? Status, bool Stored, StationCommandException? Failure, DateTimeOffset? PreviousValidUntil = null);

/// <summary>
/// Rotates a connected security profile 2 station's Basic-auth password (OCPP 2.0.1 A01: SetVariables
/// SecurityCtrlr.BasicAuthPassword; 1.6 security whitepaper: ChangeConfiguration AuthorizationKey, hex-encoded): a
/// new generated password is sent to the station wherever it is connected, and once the station has it (Accepted,
/// RebootRequired) its keyed record becomes current while the old one stays valid for
/// <see cref="OcppOptions.PreviousPasswordWindow"/> or until the station logs in with the new one, since it applies
/// the new password when it reconnects. The password is never returned, logged or stored in clear.
/// </summary>
public sealed class StationPasswordCommands(ConnectedStations stations, IStationStore store, StationPasswords passwords, OcppOptions options, TimeProvider clock)
{
    private const string Accepted = "Accepted";
    private const string RebootRequired = "RebootRequired";

    public async Task<PasswordRotation> RotateAsync(string stationId, CancellationToken ct = default)
    {
        var station = await stations.LocateForCommandAsync(stationId, ct);
        var v16 = station.Version == OcppVersion.V16;
        var password = v16 ? StationPasswords.Generate16() : StationPasswords.Generate();
        var record = passwords.RecordOfGenerated(stationId, password);
        string status;
        try
        {
            // Not cancelled with the caller: once sent, the station may take the password, so its answer must be awaited
            // (bounded by the call timeout) and the record follow it.
            status = v16 ? await ChangeAuthorizationKeyAsync(station, password, CancellationToken.None) : await SetBasicAuthPasswordAsync(station, password, CancellationToken.None);
        }
        catch (StationCommandException e) when (e.Failure is StationCommandFailure.TimedOut or StationCommandFailure.Disconnected)
        {
            // The station may have taken it and lost only its answer: then it comes back with the new password only.
            // Stored, it logs in with either until the window ends; rotate again once it is back to be sure.
            return await StoreAsync(stationId, record, null, e);
        }
        return status is Accepted or RebootRequired ? await StoreAsync(stationId, record, status, null) : new PasswordRotation(status, false, null);
    }

    /// <summary>Not cancelled with the request: the station has (or may have) the password now, so its record must follow.</summary>
    private async Task<PasswordRotation> StoreAsync(string stationId, string record, string? status, StationCommandException? failure)
    {
        var until = clock.GetUtcNow() + options.PreviousPasswordWindow;
        var stored = await store.RotatePasswordAsync(stationId, record, until, CancellationToken.None);
        return new PasswordRotation(status, stored, failure, stored ? until : null);
    }

    private async Task<string> SetBasicAuthPasswordAsync(StationLocation station, string password, CancellationToken ct)
    {
        var variable = new SetVariableData(password, new ComponentRef("SecurityCtrlr"), new VariableRef("BasicAuthPassword"));
        var answer = await stations.CommandAsync<SetVariablesResponse>(station, "SetVariables", new SetVariablesRequest([variable]), native: true, ct: ct);
        return answer.SetVariableResult.FirstOrDefault(r => r.Component.Name == "SecurityCtrlr" && r.Variable.Name == "BasicAuthPassword")?.AttributeStatus
            ?? throw new StationCommandException($"Station {station.StationId}: SetVariables answered without a result for SecurityCtrlr.BasicAuthPassword.");
    }

    /// <summary>1.6 security whitepaper: AuthorizationKey carries the password's bytes hex-encoded (here 40 hex digits).</summary>
    private async Task<string> ChangeAuthorizationKeyAsync(StationLocation station, string password, CancellationToken ct)
    {
        var key = Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(password));
        var answer = await stations.CommandAsync<ChangeConfigurationResponse>(station, "ChangeConfiguration", new ChangeConfigurationRequest("AuthorizationKey", key), native: true, ct: ct);
        return answer.Status;
    }
}
