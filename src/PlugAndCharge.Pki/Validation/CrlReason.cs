namespace PlugAndCharge.Pki.Validation;

/// <summary>CRL reason codes of RFC 5280 §5.3.1 (value 7 is unused there).</summary>
public enum CrlReason
{
    Unspecified = 0,
    KeyCompromise = 1,
    CACompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AACompromise = 10,
}
