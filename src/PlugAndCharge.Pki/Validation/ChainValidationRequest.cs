using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// One path-validation question. Certificates parsed with <see cref="CertificateReader"/> keep their original encoding, so
/// signatures are checked over the exact bytes that were signed even when the DER is not canonical.
/// </summary>
public sealed class ChainValidationRequest
{
    /// <summary>The end-entity certificate (the "target" of RFC 5280 §6.1).</summary>
    public required X509Certificate Leaf { get; init; }

    /// <summary>
    /// The issuer whose signature on this exact leaf (byte for byte) the caller has verified before, e.g. a stored copy
    /// that passed full validation when it was accepted. Only that one link is taken as verified, and only if the path
    /// goes through this issuer; dates, extensions, CA links and revocation are checked as always.
    /// </summary>
    public X509Certificate? LeafVerifiedBy { get; init; }

    /// <summary>Untrusted candidates for the path, in any order; unused ones are ignored.</summary>
    public IReadOnlyList<X509Certificate> Intermediates { get; init; } = [];

    /// <summary>Trusted certificates; a path ends at the first one it reaches.</summary>
    public required IReadOnlyList<X509Certificate> TrustAnchors { get; init; }

    /// <summary>Validation time; compared at whole seconds, as certificates encode it (RFC 5280 §4.1.2.5).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>CRLs to consult; each is used only for certificates whose issuer signed it.</summary>
    public IReadOnlyList<X509Crl> Crls { get; init; } = [];

    /// <summary>Our own revocation records.</summary>
    public IRevocationSource? Revocation { get; init; }

    public RevocationMode RevocationMode { get; init; } = RevocationMode.IfAvailable;

    /// <summary>ISO 15118 rules; null validates by RFC 5280 alone.</summary>
    public Iso15118Rules? Iso15118 { get; init; }

    public ConformanceProfile Profile { get; init; } = ConformanceProfile.Rfc5280;

    /// <summary>Extended key usage OIDs the leaf must allow (e.g. 1.3.6.1.5.5.7.3.1 for TLS server).</summary>
    public IReadOnlyList<string> RequiredExtendedKeyUsages { get; init; } = [];

    /// <summary>keyUsage bits the leaf must assert when it carries a keyUsage extension.</summary>
    public KeyUsageBits RequiredLeafKeyUsage { get; init; }

    /// <summary>When set, the leaf's subjectAltName must match this name.</summary>
    public PeerName? ExpectedPeerName { get; init; }

    /// <summary>Maximum number of intermediates, self-issued ones not counted (as pathLenConstraint counts them).</summary>
    public int? MaxIntermediates { get; init; }
}
