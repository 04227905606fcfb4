namespace PlugAndCharge.Pki.Validation;

/// <summary>keyUsage bits of RFC 5280 §4.2.1.3; flag value 1 &lt;&lt; n is the bit numbered n there.</summary>
[Flags]
public enum KeyUsageBits
{
    None = 0,
    DigitalSignature = 1 << 0,
    NonRepudiation = 1 << 1,
    KeyEncipherment = 1 << 2,
    DataEncipherment = 1 << 3,
    KeyAgreement = 1 << 4,
    KeyCertSign = 1 << 5,
    CrlSign = 1 << 6,
    EncipherOnly = 1 << 7,
    DecipherOnly = 1 << 8,
}
