using PlugAndCharge.Pki.Revocation;
namespace PlugAndCharge.Pki.Validation;

/// <summary>The answer of an <see cref="IRevocationSource"/> for one certificate.</summary>
public readonly record struct RevocationCheck(RevocationStatus Status, DateTimeOffset? RevokedAt, RevocationReason? Reason)
{
    public static RevocationCheck Good { get; } = new(RevocationStatus.Good, null, null);

    public static RevocationCheck Unknown { get; } = new(RevocationStatus.Unknown, null, null);

    public static RevocationCheck RevokedOn(DateTimeOffset revokedAt, RevocationReason reason) => new(RevocationStatus.Revoked, revokedAt, reason);
}
