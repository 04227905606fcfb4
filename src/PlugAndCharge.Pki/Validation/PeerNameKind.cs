namespace PlugAndCharge.Pki.Validation;

public enum PeerNameKind
{
    Dns = 0,
    IpAddress = 1,
}
