namespace PlugAndCharge.Pki.Validation;

/// <summary>What is known about one certificate's revocation.</summary>
public enum RevocationStatus
{
    Unknown = 0,
    Good = 1,
    Revoked = 2,
}
