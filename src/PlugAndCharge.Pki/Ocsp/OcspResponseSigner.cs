using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Ocsp;

/// <summary>The answer for one CertID before signing.</summary>
internal sealed record OcspSingleAnswer(byte[] CertIdDer, OcspCertStatus Status, DateTimeOffset? RevokedAt, RevocationReason? Reason, DateTimeOffset ThisUpdate, DateTimeOffset NextUpdate);

/// <summary>Encodes, signs and verifies a BasicOCSPResponse inside a successful OCSPResponse (RFC 6960 §4.2.1).</summary>
internal static class OcspResponseSigner
{
    public static async Task<byte[]> SignAsync(OcspSigningIdentity signer, IReadOnlyList<OcspSingleAnswer> answers, byte[]? nonceExtensionValue, DateTimeOffset producedAt, CancellationToken ct)
    {
        var singles = new Asn1EncodableVector(answers.Count);
        foreach (var a in answers)
        {
            var status = a.Status switch
            {
                OcspCertStatus.Good => new CertStatus(),
                // RFC 5280 §5.3.1 practice: the reason is left out rather than stated as unspecified.
                OcspCertStatus.Revoked => new CertStatus(new RevokedInfo(Time(a.RevokedAt!.Value),
                    a.Reason is { } r and not RevocationReason.Unspecified ? new CrlReason((int)r) : null)),
                _ => new CertStatus(2, DerNull.Instance),
            };
            singles.Add(new SingleResponse(CertID.GetInstance(a.CertIdDer), status, Time(a.ThisUpdate), Time(a.NextUpdate), (X509Extensions?)null));
        }
        X509Extensions? extensions = null;
        if (nonceExtensionValue != null)
        {
            var g = new X509ExtensionsGenerator();
            g.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, nonceExtensionValue); // echoed as sent (RFC 6960 §4.4.1)
            extensions = g.Generate();
        }
        var tbs = new ResponseData(new ResponderID(new DerOctetString(signer.ResponderKeyHash)), Time(producedAt), new DerSequence(singles), extensions);
        var tbsDer = tbs.GetEncoded(Asn1Encodable.Der);
        var signature = await signer.Key.SignAsync(tbsDer, SignatureFormat.Der, ct);
        if (!SignatureAlgorithms.Verify(signer.Key.PublicKey, signer.SignatureAlgorithm, tbsDer, signature))
            throw new PkiException(PkiError.SignatureCheckFailed, $"The OCSP response signature by '{signer.Key.Uri}' does not verify.");
        var certs = signer.Certificate != null ? new DerSequence(signer.Certificate.CertificateStructure) : null;
        var basic = new BasicOcspResponse(tbs, signer.SignatureAlgorithm, new DerBitString(signature), certs);
        return new OcspResponse(new Org.BouncyCastle.Asn1.Ocsp.OcspResponseStatus(Org.BouncyCastle.Asn1.Ocsp.OcspResponseStatus.Successful),
            new ResponseBytes(OcspObjectIdentifiers.PkixOcspBasic, new DerOctetString(basic.GetEncoded(Asn1Encodable.Der)))).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>GeneralizedTime in whole seconds (RFC 5280 §4.1.2.5.2: no fractional seconds).</summary>
    private static Asn1GeneralizedTime Time(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        return new Asn1GeneralizedTime(new DateTime(u.Ticks - u.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc));
    }
}
