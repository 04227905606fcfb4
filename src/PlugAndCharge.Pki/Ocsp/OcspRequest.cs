namespace PlugAndCharge.Pki.Ocsp;

/// <summary>The hash algorithms a CertID may name (RFC 6960 §4.1.1; SHA-2 per RFC 5019 §2.1.1 successors).</summary>
public enum OcspHashAlgorithm { Sha1, Sha256, Sha384, Sha512, Unsupported }

/// <summary>
/// One CertID of a request as offsets into the request bytes: the whole encoding (echoed in the response and used as
/// the cache key), the hash algorithm, both issuer hashes and the serial INTEGER's content octets.
/// </summary>
public readonly record struct OcspCertId(Range Encoded, OcspHashAlgorithm HashAlgorithm, Range IssuerNameHash, Range IssuerKeyHash, Range Serial);

/// <summary>A parsed OCSPRequest (RFC 6960 §4.1.1) whose parts point into the request bytes it was read from.</summary>
public sealed class OcspRequest(OcspCertId[] certIds, Range? nonceExtensionValue)
{
    public IReadOnlyList<OcspCertId> CertIds { get; } = certIds;
    /// <summary>The nonce extension's extnValue octets as sent, echoed unchanged in the response (RFC 6960 §4.4.1).</summary>
    public Range? NonceExtensionValue { get; } = nonceExtensionValue;
    /// <summary>One CertID and no nonce: the answer does not depend on the request and may be pre-signed and cached (RFC 5019 §2.1).</summary>
    public bool IsCacheable => CertIds.Count == 1 && NonceExtensionValue == null;
}
