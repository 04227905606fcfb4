namespace PlugAndCharge.Pki.Ocsp;

/// <summary>OCSPResponseStatus, RFC 6960 §4.2.1 (value 4 is unused).</summary>
public enum OcspResponseStatus
{
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

/// <summary>CertStatus of one SingleResponse, RFC 6960 §4.2.1.</summary>
public enum OcspCertStatus { Good, Revoked, Unknown }

/// <summary>The unsigned error responses: only responseStatus, no responseBytes (RFC 6960 §4.2.1).</summary>
public static class OcspErrorResponses
{
    private static readonly byte[][] Encoded = Enumerable.Range(0, 7).Select(s => new byte[] { 0x30, 0x03, 0x0A, 0x01, (byte)s }).ToArray();

    public static byte[] For(OcspResponseStatus status) =>
        status == OcspResponseStatus.Successful ? throw new ArgumentException("A successful response is signed.", nameof(status)) : Encoded[(int)status];
}
