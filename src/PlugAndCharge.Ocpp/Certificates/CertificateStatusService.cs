using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki;

namespace PlugAndCharge.Ocpp.Certificates;

public enum OcspCertStatus { Good, Revoked, Unknown }

/// <summary>The OCSP answer for one certificate: the DER response to hand on, and what it says.</summary>
public sealed record OcspAnswer(bool Ok, byte[]? Response, OcspCertStatus Status, DateTimeOffset? NextUpdate, string? Failure)
{
    public static OcspAnswer Failed(string reason) => new(false, null, OcspCertStatus.Unknown, null, reason);
}

/// <summary>
/// OCSP for stations (GetCertificateStatus, 2.1 GetCertificateChainStatus, Authorize with hash data): a CertID of one
/// of our CAs goes to our own responder; any other goes to the station's responderURL only if it is on the configured
/// allow-list. Responses are checked (status, matching CertID, a signature of the issuing CA or of a delegate it
/// certified for OCSPSigning, freshness) and cached by responder and CertID until their nextUpdate (RFC 6960 §4.2.1),
/// but never longer than <see cref="OcppOptions.OcspCacheMaxAge"/>; concurrent asks for one CertID share one fetch.
/// </summary>
public sealed class CertificateStatusService(
    OurCertificateAuthorities cas,
    IOcspTransport transport,
    OcppOptions options,
    PkiOptions pki,
    TimeProvider clock,
    ILogger<CertificateStatusService> log)
{
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, (OcspAnswer Answer, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<OcspAnswer>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Fetches (or reuses) the OCSP response for <paramref name="id"/>.</summary>
    public async Task<OcspAnswer> GetAsync(CertificateIdentity id, string? stationResponderUrl, CancellationToken ct = default)
    {
        var snapshot = await cas.GetAsync(ct);
        var ours = snapshot.ByIssuerHashes(id.HashAlgorithm, id.IssuerNameHash, id.IssuerKeyHash);
        Uri responder;
        if (ours != null)
        {
            var url = options.OwnOcspResponderUrl?.Invoke(ours.Id) ?? pki.OcspUrl(ours.Id);
            if (!Uri.TryCreate(url, UriKind.Absolute, out responder!)) return OcspAnswer.Failed("Our OCSP responder URL is not configured.");
        }
        else if (!OcspResponderAllowList.IsAllowed(options.AllowedOcspResponders, stationResponderUrl, out responder))
        {
            return OcspAnswer.Failed("The issuer is not one of our CAs and the responder URL is not on the allow-list.");
        }

        var key = responder.AbsoluteUri + " " + id.CacheKey;
        if (_cache.TryGetValue(key, out var cached) && cached.Until > clock.GetUtcNow()) return cached.Answer;

        var fetch = _inFlight.GetOrAdd(key, _ => new Lazy<Task<OcspAnswer>>(() => FetchAsync(key, id, responder, ours?.Certificate)));
        try
        {
            return await fetch.Value.WaitAsync(ct);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<OcspAnswer>>>(key, fetch));
        }
    }

    private async Task<OcspAnswer> FetchAsync(string cacheKey, CertificateIdentity id, Uri responder, X509Certificate? issuer)
    {
        byte[] der;
        try
        {
            var generator = new OcspReqGenerator();
            generator.AddRequest(new CertificateID(id.ToCertId()));
            // The transport bounds the fetch by OcppOptions.OcspFetchTimeout (HttpOcspTransport's pipeline).
            der = await transport.PostAsync(responder, generator.Generate().GetEncoded(), foreign: issuer == null, CancellationToken.None);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or Polly.ExecutionRejectedException)
        {
            log.LogWarning("OCSP responder {Responder} failed for {CertId}: {Error}", responder.GetLeftPart(UriPartial.Path), id, e.Message);
            return OcspAnswer.Failed("The OCSP responder could not be reached.");
        }

        var answer = Interpret(der, id, issuer);
        if (answer.Ok && answer.NextUpdate is { } next)
        {
            if (_cache.Count >= options.OcspCacheCapacity) Evict();
            var cap = clock.GetUtcNow() + options.OcspCacheMaxAge;
            _cache[cacheKey] = (answer, next < cap ? next : cap);
        }
        return answer;
    }

    /// <summary>Checks an OCSPResponse (RFC 6960 §3.2) and reads the status of <paramref name="id"/> from it.</summary>
    internal OcspAnswer Interpret(byte[] der, CertificateIdentity id, X509Certificate? issuer)
    {
        try
        {
            var response = new OcspResp(der);
            if (response.Status != OcspRespStatus.Successful) return OcspAnswer.Failed($"The OCSP responder answered status {response.Status}.");
            if (response.GetResponseObject() is not BasicOcspResp basic) return OcspAnswer.Failed("The OCSP response is not a basic response.");
            if (!SignatureVerifies(basic, id, issuer ?? ForeignIssuer(basic, id), clock.GetUtcNow())) return OcspAnswer.Failed("The OCSP response signature does not verify.");
            var single = basic.Responses.FirstOrDefault(r => id.Matches(r.GetCertID().ToAsn1Object()));
            if (single == null) return OcspAnswer.Failed("The OCSP response does not cover the certificate.");
            var now = clock.GetUtcNow();
            var thisUpdate = new DateTimeOffset(single.ThisUpdate, TimeSpan.Zero);
            DateTimeOffset? nextUpdate = single.NextUpdate is { } n ? new DateTimeOffset(n, TimeSpan.Zero) : null;
            // RFC 6960 §4.2.2.1: thisUpdate not in the future, nextUpdate not passed.
            if (thisUpdate > now + Skew || (nextUpdate is { } nu && nu < now)) return OcspAnswer.Failed("The OCSP response is not current.");
            var status = single.GetCertStatus() switch
            {
                null => OcspCertStatus.Good,
                RevokedStatus => OcspCertStatus.Revoked,
                _ => OcspCertStatus.Unknown,
            };
            return new OcspAnswer(true, der, status, nextUpdate, null);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or OcspException or Org.BouncyCastle.Asn1.Asn1Exception or InvalidOperationException)
        {
            return OcspAnswer.Failed("The OCSP responder sent an unreadable response.");
        }
    }

    /// <summary>
    /// RFC 6960 §4.2.2.2: signed by the issuer itself or by a delegated responder the issuer certified for OCSPSigning
    /// (valid now). No issuer known, no answer: a certificate that merely signs its own response proves nothing.
    /// </summary>
    private static bool SignatureVerifies(BasicOcspResp basic, CertificateIdentity id, X509Certificate? issuer, DateTimeOffset now)
    {
        if (issuer == null || !IsIssuer(id, issuer)) return false;
        if (basic.Verify(issuer.GetPublicKey())) return true;
        foreach (var s in basic.GetCerts())
        {
            if (!s.IssuerDN.Equivalent(issuer.SubjectDN, true) || !s.IsValid(now.UtcDateTime)) continue;
            try { s.Verify(issuer.GetPublicKey()); }
            catch (Exception) { continue; }
            var eku = s.GetExtendedKeyUsage();
            if (eku != null && eku.Any(o => o.Equals(KeyPurposeID.id_kp_OCSPSigning)) && basic.Verify(s.GetPublicKey())) return true;
        }
        return false;
    }

    /// <summary>
    /// A foreign issuer is known to us only by the CertID's hashes of its name and public key (RFC 6960 §4.1.1). A
    /// certificate whose subject and key hash to those values (carried in the response, or configured by the operator
    /// in <see cref="OcppOptions.ForeignIssuersPem"/> or <see cref="OcppOptions.ExtraContractRootsPem"/>) holds the
    /// issuer's key, whoever supplied it: only the key matters, and its hash binds it.
    /// </summary>
    private X509Certificate? ForeignIssuer(BasicOcspResp basic, CertificateIdentity id)
    {
        foreach (var c in basic.GetCerts())
            if (IsIssuer(id, c)) return c;
        foreach (var pem in options.ForeignIssuersPem.Concat(options.ExtraContractRootsPem))
        {
            X509Certificate c;
            try { c = new X509CertificateParser().ReadCertificate(System.Text.Encoding.ASCII.GetBytes(pem)); }
            catch (Exception) { continue; }
            if (c != null && IsIssuer(id, c)) return c;
        }
        return null;
    }

    private static bool IsIssuer(CertificateIdentity id, X509Certificate c) =>
        CertificateHashes.Hash(id.HashAlgorithm, c.SubjectDN.GetEncoded()).AsSpan().SequenceEqual(id.IssuerNameHash)
        && CertificateHashes.Hash(id.HashAlgorithm, c.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetBytes()).AsSpan().SequenceEqual(id.IssuerKeyHash);

    private void Evict()
    {
        var now = clock.GetUtcNow();
        foreach (var (k, v) in _cache)
            if (v.Until <= now) _cache.TryRemove(k, out _);
        if (_cache.Count >= options.OcspCacheCapacity) _cache.Clear();
    }
}
