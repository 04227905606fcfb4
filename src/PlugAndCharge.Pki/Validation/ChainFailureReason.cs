namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Why a certification path was rejected. Kept specific because callers map it to protocol statuses
/// (OCPP: <see cref="Expired"/> → CertificateExpired, <see cref="Revoked"/> → CertificateRevoked, the rest → CertChainError).
/// </summary>
public enum ChainFailureReason
{
    None = 0,
    /// <summary>A certificate's notAfter is before the validation time (RFC 5280 §4.1.2.5, §6.1.3 (a)(2)).</summary>
    Expired,
    /// <summary>A certificate's notBefore is after the validation time.</summary>
    NotYetValid,
    /// <summary>A CRL or our own records say a certificate of the path is revoked.</summary>
    Revoked,
    /// <summary>A certificate's signature does not verify with its issuer's key.</summary>
    BadSignature,
    /// <summary>No path from the leaf to a trust anchor could be built.</summary>
    UntrustedRoot,
    /// <summary>pathLenConstraint (RFC 5280 §4.2.1.9) or the requested maximum number of intermediates is exceeded.</summary>
    PathLength,
    /// <summary>keyUsage forbids the use (keyCertSign on an issuer, a required leaf usage, keyCertSign without cA).</summary>
    KeyUsage,
    /// <summary>extendedKeyUsage does not allow the required purpose.</summary>
    ExtendedKeyUsage,
    /// <summary>Issuer and subject names do not chain.</summary>
    NameChaining,
    /// <summary>A name of the path lies outside permitted or inside excluded subtrees (RFC 5280 §4.2.1.10).</summary>
    NameConstraints,
    /// <summary>A critical extension the validator does not process (RFC 5280 §4.2).</summary>
    UnknownCriticalExtension,
    /// <summary>basicConstraints makes the certificate unfit for its position (RFC 5280 §4.2.1.9, §6.1.4 (k)).</summary>
    BasicConstraints,
    /// <summary>The certificate cannot be parsed or breaks a MUST of the RFC 5280 profile.</summary>
    Malformed,
    /// <summary>The certificate breaks a rule of the selected conformance profile (CA/Browser Forum rules in <see cref="ConformanceProfile.WebPki"/>).</summary>
    PolicyViolation,
    /// <summary>The leaf does not name the expected peer (DNS name or IP address).</summary>
    NameMismatch,
    /// <summary>Revocation status could not be established although it was required, or a supplied CRL was unusable.</summary>
    RevocationUnknown,
    /// <summary>The ISO 15118 certificate profile delegate rejected a certificate, or a key is not allowed by ISO 15118.</summary>
    ProfileViolation,
    /// <summary>The contract certificate's common name is not the expected EMAID.</summary>
    EmaidMismatch,
    /// <summary>More certificates below the root than ISO 15118 allows [V2G2-009].</summary>
    ChainTooLong,
    /// <summary>A signature or key algorithm the validator refuses (weak, explicit curve, unknown).</summary>
    UnsupportedAlgorithm,
}
