namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// What the responder answers: the DER OCSPResponse to send with HTTP 200 (RFC 6960 Appendix A), the cached entry
/// when the answer is a pre-signed one (its HTTP cache headers), and the failure behind an internalError or tryLater
/// answer for the host to log.
/// </summary>
public readonly record struct OcspAnswer(byte[] Der, OcspResponseStatus Status, OcspCachedResponse? Cached = null, Exception? Failure = null)
{
    public static OcspAnswer Error(OcspResponseStatus status, Exception? failure = null) => new(OcspErrorResponses.For(status), status, null, failure);
}
