using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Outcome of a validation. <paramref name="Path"/> runs leaf..anchor when valid; on failure it is the path that got furthest,
/// and <paramref name="FailingIndex"/> points into it at the certificate the failure is about.
/// </summary>
public sealed record ChainValidationResult(
    bool IsValid,
    ChainFailureReason Reason,
    string Detail,
    IReadOnlyList<X509Certificate> Path,
    int? FailingIndex,
    RevocationInfo? Revocation)
{
    internal static ChainValidationResult Valid(IReadOnlyList<X509Certificate> path, RevocationInfo? revocation) =>
        new(true, ChainFailureReason.None, "valid", path, null, revocation);
}
