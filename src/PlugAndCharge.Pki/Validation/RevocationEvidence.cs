namespace PlugAndCharge.Pki.Validation;

/// <summary>Where a revocation answer came from.</summary>
public enum RevocationEvidence
{
    None = 0,
    Crl = 1,
    RevocationSource = 2,
}
