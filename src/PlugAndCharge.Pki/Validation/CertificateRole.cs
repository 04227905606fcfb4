namespace PlugAndCharge.Pki.Validation;

internal enum CertificateRole
{
    Leaf = 0,
    Intermediate = 1,
    Anchor = 2,
}
