namespace PlugAndCharge.Pki.Validation;

/// <summary>Which certificate profile, beyond the RFC 5280 §6.1 algorithm, the validator enforces.</summary>
public enum ConformanceProfile
{
    /// <summary>
    /// The MUSTs of the RFC 5280 §4 profile that matter for path construction (AKI/SKI, criticality of basicConstraints and
    /// nameConstraints, consistent keyUsage and basicConstraints, no empty names). ISO 15118 PKIs are built on this profile.
    /// </summary>
    Rfc5280 = 0,

    /// <summary>
    /// RFC 5280 plus the CA/Browser Forum Baseline Requirements that rustls-webpki applies to TLS server certificates:
    /// v3 only, an end-entity leaf with an extendedKeyUsage, CN copied from the SAN, root AKI equal to SKI, roots without EKU.
    /// Non-critical nameConstraints are tolerated, as the Baseline Requirements allow.
    /// </summary>
    WebPki = 1,
}
