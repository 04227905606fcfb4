using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>ISO 15118 rules applied on top of RFC 5280 when set on <see cref="ChainValidationRequest.Iso15118"/>.</summary>
public sealed class Iso15118Rules
{
    /// <summary>secp256r1, the curve of ISO 15118-2 [V2G2-011].</summary>
    public const string Secp256r1 = "1.2.840.10045.3.1.7";

    /// <summary>secp521r1, the ECDSA curve of ISO 15118-20.</summary>
    public const string Secp521r1 = "1.3.132.0.35";

    /// <summary>Certificates below the root, leaf included: Sub-CA 1, Sub-CA 2 and the leaf [V2G2-009].</summary>
    public int MaxCertificatesBelowRoot { get; init; } = 3;

    /// <summary>An ISO 15118 leaf (contract, SECC, CPS, OEM provisioning) is never a CA.</summary>
    public bool LeafMustNotBeCa { get; init; } = true;

    /// <summary>When set, the leaf's subject CN must be this EMAID, compared upper-case with '-' separators removed.</summary>
    public string? ExpectedEmaid { get; init; }

    /// <summary>
    /// Extra profile check per certificate (depth 0 = leaf, the anchor last); returns a violation text or null.
    /// Lets callers plug in the Annex F profiles, which are data owned elsewhere.
    /// </summary>
    public Func<X509Certificate, int, string?>? ProfileConformance { get; init; }

    /// <summary>Named curves EC keys of the path may use (ISO 15118-2: secp256r1; -20: secp521r1).</summary>
    public IReadOnlySet<string> AllowedCurveOids { get; init; } = new HashSet<string>(StringComparer.Ordinal) { Secp256r1, Secp521r1 };

    /// <summary>Ed448 keys are allowed by ISO 15118-20; every other non-EC key algorithm is refused.</summary>
    public bool AllowEd448 { get; init; } = true;
}
