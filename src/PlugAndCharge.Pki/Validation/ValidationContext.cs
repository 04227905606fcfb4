namespace PlugAndCharge.Pki.Validation;

/// <summary>The state of one validation: the request, its certificates as views, the clock, the shared verifier.</summary>
internal sealed class ValidationContext
{
    public ValidationContext(
        ChainValidationRequest request,
        DateTime at,
        CertificateView leaf,
        CertificateView[] anchors,
        CertificateView[] intermediates,
        CrlView[] crls,
        SignatureVerifier verifier,
        ChainValidatorOptions options,
        CertificateFingerprint? leafVerifiedBy)
    {
        LeafVerifiedBy = leafVerifiedBy;
        Request = request;
        At = at;
        Leaf = leaf;
        Anchors = anchors;
        Intermediates = intermediates;
        Crls = crls;
        Verifier = verifier;
        Options = options;
    }

    public ChainValidationRequest Request { get; }

    /// <summary>The issuer of <see cref="ChainValidationRequest.LeafVerifiedBy"/>, when the caller gave one.</summary>
    public CertificateFingerprint? LeafVerifiedBy { get; }

    /// <summary>Validation time in UTC, truncated to whole seconds.</summary>
    public DateTime At { get; }

    public CertificateView Leaf { get; }

    public CertificateView[] Anchors { get; }

    public CertificateView[] Intermediates { get; }

    public CrlView[] Crls { get; }

    public SignatureVerifier Verifier { get; }

    public ChainValidatorOptions Options { get; }
}
