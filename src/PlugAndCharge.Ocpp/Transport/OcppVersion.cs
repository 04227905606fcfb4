namespace PlugAndCharge.Ocpp.Transport;

/// <summary>The OCPP-J versions this service speaks, one per WebSocket subprotocol.</summary>
public enum OcppVersion
{
    V16,
    V201,
    V21,
}

public static class OcppVersions
{
    public const string Ocpp16 = "ocpp1.6";
    public const string Ocpp201 = "ocpp2.0.1";
    public const string Ocpp21 = "ocpp2.1";

    /// <summary>Server preference when a station offers several subprotocols: the newest first.</summary>
    public static IReadOnlyList<OcppVersion> Preference { get; } = [OcppVersion.V21, OcppVersion.V201, OcppVersion.V16];

    public static string SubProtocol(this OcppVersion version) => version switch
    {
        OcppVersion.V16 => Ocpp16,
        OcppVersion.V201 => Ocpp201,
        OcppVersion.V21 => Ocpp21,
        _ => throw new ArgumentOutOfRangeException(nameof(version)),
    };

    public static bool TryParse(string? subProtocol, out OcppVersion version)
    {
        switch (subProtocol?.Trim().ToLowerInvariant())
        {
            case Ocpp16: version = OcppVersion.V16; return true;
            case Ocpp201: version = OcppVersion.V201; return true;
            case Ocpp21: version = OcppVersion.V21; return true;
            default: version = default; return false;
        }
    }
}
