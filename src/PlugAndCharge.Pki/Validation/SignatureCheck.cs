namespace PlugAndCharge.Pki.Validation;

internal enum SignatureCheck
{
    Valid = 0,
    Invalid = 1,
    Unsupported = 2,
}
