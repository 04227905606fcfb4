using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace PlugAndCharge.Contracts.Tests;

/// <summary>Reads the EVerest test keys (legacy OpenSSL "Proc-Type: 4,ENCRYPTED" PEM, which .NET cannot read) through BouncyCastle.</summary>
internal static class EverestKeys
{
    private sealed class Password(string p) : IPasswordFinder { public char[] GetPassword() => p.ToCharArray(); }

    public static ECParameters Read(string path, string password = "123456")
    {
        using var reader = new StreamReader(path);
        var obj = new PemReader(reader, new Password(password)).ReadObject();
        var priv = (ECPrivateKeyParameters)(obj is AsymmetricCipherKeyPair pair ? pair.Private : obj);
        var q = priv.Parameters.G.Multiply(priv.D).Normalize();
        return new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = priv.D.ToByteArrayUnsigned().PadLeft(32),
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        };
    }

    private static byte[] PadLeft(this byte[] b, int n) => b.Length >= n ? b : [.. new byte[n - b.Length], .. b];
}
