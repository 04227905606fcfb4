namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// How the last BootNotification on a connection was answered (OCPP 2.0.1 B01-B03, 1.6 §4.2). A station that
/// reconnects without booting again (OCPP-J: it need not) is <see cref="NotBooted"/> and served as before; only a
/// station told Pending or Rejected is held to the rules of that state.
/// </summary>
public enum StationRegistration
{
    NotBooted,
    Accepted,
    Pending,
    Rejected,
}
