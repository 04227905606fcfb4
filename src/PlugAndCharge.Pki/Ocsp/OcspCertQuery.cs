namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// What one CertID asks of a CA: its exact encoding (echoed in the SingleResponse and the cache key) and the serial in
/// the store's form, or null when the CertID names another issuer or a hash we do not support (answer: unknown).
/// </summary>
internal sealed record OcspCertQuery(byte[] CertIdDer, string? Serial);
