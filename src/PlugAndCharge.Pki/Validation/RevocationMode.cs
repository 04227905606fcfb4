namespace PlugAndCharge.Pki.Validation;

/// <summary>How hard the validator insists on knowing the revocation status of every non-anchor certificate.</summary>
public enum RevocationMode
{
    /// <summary>
    /// Use the CRLs and the revocation source that are supplied; a certificate that none of them covers passes.
    /// A supplied CRL that claims to come from a certificate's issuer but is unusable (bad signature, issuer without cRLSign,
    /// missing or critical CRL number) fails the validation: a broken CRL must not silently turn into "not revoked".
    /// </summary>
    IfAvailable = 0,

    /// <summary>Revocation is not checked at all.</summary>
    None = 1,

    /// <summary>Like <see cref="IfAvailable"/>, and every non-anchor certificate must be covered by a current CRL or a definite answer of the source.</summary>
    Require = 2,
}
