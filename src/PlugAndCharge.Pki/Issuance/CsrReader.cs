using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>A PKCS#10 request whose self-signature has been checked.</summary>
public sealed record VerifiedCsr(X509Name Subject, SubjectPublicKeyInfo PublicKey, KeyAlgorithm KeyAlgorithm);

public static class CsrReader
{
    /// <summary>Accepts DER or PEM ("CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST") or bare base64.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> input)
    {
        var text = System.Text.Encoding.ASCII.GetString(input).Trim();
        if (input.Length > 0 && input[0] == 0x30) return input.ToArray();
        var start = text.IndexOf("-----BEGIN", StringComparison.Ordinal);
        if (start >= 0)
        {
            var bodyStart = text.IndexOf('\n', start) + 1;
            var end = text.IndexOf("-----END", bodyStart, StringComparison.Ordinal);
            if (bodyStart <= 0 || end < 0) throw new PkiException(PkiError.BadCsr, "Unterminated PEM block.");
            text = text[bodyStart..end];
        }
        try { return Convert.FromBase64String(text.Replace("\r", "").Replace("\n", "").Trim()); }
        catch (FormatException) { throw new PkiException(PkiError.BadCsr, "The CSR is neither DER, PEM nor base64."); }
    }

    /// <summary>Parses a PKCS#10 request and checks its signature (proof of possession of the key).</summary>
    public static VerifiedCsr ReadAndVerify(byte[] der)
    {
        CertificationRequest req;
        try
        {
            req = CertificationRequest.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidCastException or InvalidOperationException or Asn1Exception)
        {
            throw new PkiException(PkiError.BadCsr, "The CSR is not a valid PKCS#10 structure.", e);
        }
        var info = req.GetCertificationRequestInfo();
        var spki = info.SubjectPublicKeyInfo;
        var alg = PublicKeys.Identify(spki);
        if (alg == KeyAlgorithm.X448)
            throw new PkiException(PkiError.BadCsr, "An X448 key cannot sign a CSR; submit the public key instead.");
        bool ok;
        try
        {
            ok = SignatureAlgorithms.Verify(spki, req.SignatureAlgorithm, info.GetEncoded(Asn1Encodable.Der), req.Signature.GetOctets());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            ok = false;
        }
        if (!ok) throw new PkiException(PkiError.BadCsrSignature, "The CSR's signature does not verify with its public key.");
        return new VerifiedCsr(info.Subject, spki, alg);
    }
}
