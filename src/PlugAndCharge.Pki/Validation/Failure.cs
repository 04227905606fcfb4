namespace PlugAndCharge.Pki.Validation;

/// <summary>A rejection found while checking a path; <paramref name="Index"/> is the position in the path (0 = leaf).</summary>
internal readonly record struct Failure(ChainFailureReason Reason, string Detail, int Index, RevocationInfo? Revocation = null);
