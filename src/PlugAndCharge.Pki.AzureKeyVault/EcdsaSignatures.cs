using Org.BouncyCastle.Asn1;

namespace PlugAndCharge.Pki.AzureKeyVault;

internal static class EcdsaSignatures
{
    /// <summary>JWS ES256/384/512 signatures are r‖s (RFC 7518 §3.4); X.509 wants ECDSA-Sig-Value (RFC 3279 §2.2.3).</summary>
    public static byte[] RawToDer(byte[] rawRs)
    {
        var half = rawRs.Length / 2;
        var r = new Org.BouncyCastle.Math.BigInteger(1, rawRs, 0, half);
        var s = new Org.BouncyCastle.Math.BigInteger(1, rawRs, half, half);
        return new DerSequence(new DerInteger(r), new DerInteger(s)).GetEncoded(Asn1Encodable.Der);
    }
}
