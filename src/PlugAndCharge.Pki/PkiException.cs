namespace PlugAndCharge.Pki;

/// <summary>Named failures of the CA, so every layer above can map them to its protocol's error form.</summary>
public enum PkiError
{
    UnknownProfile,
    UnknownCa,
    CaNotActive,
    IssuerNotAllowed,
    BadCsr,
    BadCsrSignature,
    KeyNotAllowed,
    SubjectRuleViolated,
    ValidityNotAllowed,
    LintFailed,
    SignatureCheckFailed,
    TooLarge,
    SerialCollision,
    UnknownCertificate,
    KeyNotFound,
    KeyAlreadyExists,
    BadKeyUri,
    KeyProviderUnavailable,
    AlreadyExists,
    Malformed,
}

public sealed class PkiException(PkiError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public PkiError Error { get; } = error;
}
