namespace PlugAndCharge.Pki.Validation;

/// <summary>Cache sizes and work bounds of a <see cref="ChainValidator"/>.</summary>
public sealed class ChainValidatorOptions
{
    /// <summary>Verified CA-to-CA signatures remembered by (issuer, subject) certificate hash.</summary>
    public int SignatureCacheCapacity { get; init; } = 4096;

    /// <summary>Parsed issuer public keys remembered by certificate hash.</summary>
    public int PublicKeyCacheCapacity { get; init; } = 1024;

    /// <summary>Signature verifications one validation may spend on path building (denial-of-service bound).</summary>
    public int MaxSignatureChecks { get; init; } = 64;

    /// <summary>Candidate issuers one validation may consider (denial-of-service bound).</summary>
    public int MaxCandidateSteps { get; init; } = 1024;

    /// <summary>Longest path considered, leaf and anchor included, self-issued certificates included.</summary>
    public int MaxPathCertificates { get; init; } = 12;

    /// <summary>Name-versus-subtree comparisons one validation may spend on name constraints (denial-of-service bound).</summary>
    public int MaxNameConstraintComparisons { get; init; } = 250_000;
}
