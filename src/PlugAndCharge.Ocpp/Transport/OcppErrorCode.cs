namespace PlugAndCharge.Ocpp.Transport;

/// <summary>CALLERROR codes, named as OCPP 2.0.1 names them (OCPP-J 2.0.1 §4.3); <see cref="OcppErrorCodes.ToWire"/> gives the 1.6 spelling.</summary>
public enum OcppErrorCode
{
    FormatViolation,
    GenericError,
    InternalError,
    MessageTypeNotSupported,
    NotImplemented,
    NotSupported,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    ProtocolError,
    RpcFrameworkError,
    SecurityError,
    TypeConstraintViolation,
}

public static class OcppErrorCodes
{
    /// <summary>
    /// The code as the station's version spells it. OCPP-J 1.6 §4.2.3 names "FormationViolation" and (sic)
    /// "OccurenceConstraintViolation", and has no RpcFrameworkError or MessageTypeNotSupported: a frame that is not a
    /// valid RPC message is a FormationViolation there, an unknown message type a GenericError.
    /// </summary>
    public static string ToWire(this OcppErrorCode code, OcppVersion version)
    {
        if (version != OcppVersion.V16) return code.ToString();
        return code switch
        {
            OcppErrorCode.FormatViolation => "FormationViolation",
            OcppErrorCode.OccurrenceConstraintViolation => "OccurenceConstraintViolation",
            OcppErrorCode.RpcFrameworkError => "FormationViolation",
            OcppErrorCode.MessageTypeNotSupported => "GenericError",
            _ => code.ToString(),
        };
    }

    /// <summary>Reads a code a peer sent, in either version's spelling.</summary>
    public static OcppErrorCode FromWire(string? code) => code switch
    {
        "FormationViolation" => OcppErrorCode.FormatViolation,
        "OccurenceConstraintViolation" => OcppErrorCode.OccurrenceConstraintViolation,
        _ when Enum.TryParse<OcppErrorCode>(code, out var c) => c,
        _ => OcppErrorCode.GenericError,
    };
}

/// <summary>Thrown by a handler (or the transport) to answer a CALL with a CALLERROR instead of a CALLRESULT.</summary>
public sealed class OcppCallErrorException(OcppErrorCode code, string description) : Exception(description)
{
    public OcppErrorCode Code { get; } = code;
}

/// <summary>Why an outbound call failed.</summary>
public enum OcppCallFailure
{
    /// <summary>The station answered, but with a CALLERROR, a refused DataTransfer or an answer that breaks the schema.</summary>
    Refused,
    /// <summary>No answer in time.</summary>
    TimedOut,
    /// <summary>The station was not connected, or went away before it answered.</summary>
    Disconnected,
    /// <summary>No instance holds a connection of the station (it was never sent the call).</summary>
    NotConnected,
}

/// <summary>An outbound call that did not end in a CALLRESULT: the station answered CALLERROR, timed out, or went away.</summary>
public sealed class OcppCallFailedException(string action, OcppErrorCode? code, string description, OcppCallFailure failure = OcppCallFailure.Refused)
    : Exception($"{action}: {description}")
{
    public string Action { get; } = action;
    /// <summary>The station's CALLERROR code; null when it never answered (timeout, disconnect).</summary>
    public OcppErrorCode? Code { get; } = code;
    public OcppCallFailure Failure { get; } = failure;
}
