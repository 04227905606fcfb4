using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using X509Certificate = Org.BouncyCastle.X509.X509Certificate;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>Builds small ISO 15118-shaped PKIs (P-256, critical basicConstraints and keyUsage, SKI/AKI) for rule tests.</summary>
    internal sealed class TestPki
    {
        public static readonly DateTime NotBefore = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        public static readonly DateTime NotAfter = new(2034, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        public static readonly DateTimeOffset At = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

        private static readonly SecureRandom Random = new();
        private static long _serial = 1000;

        public sealed record Issued(X509Certificate Certificate, AsymmetricCipherKeyPair Key, string Subject);

        public static AsymmetricCipherKeyPair NewKey(string curve = "P-256")
        {
            var generator = new ECKeyPairGenerator();
            generator.Init(new ECKeyGenerationParameters(ECNamedCurveTable.GetOid(curve), Random));
            return generator.GenerateKeyPair();
        }

        public static Issued Root(string name = "CN=Test V2G Root,DC=V2G") =>
            Issue(name, NewKey(), issuer: null, ca: true, pathLength: null);

        public static Issued SubCa(Issued issuer, string name, int? pathLength) => Issue(name, NewKey(), issuer, ca: true, pathLength);

        public static Issued Leaf(Issued issuer, string name, bool ca = false, AsymmetricCipherKeyPair? key = null) =>
            Issue(name, key ?? NewKey(), issuer, ca, null);

        /// <summary>A certificate signed by <paramref name="issuer"/> (self-signed when null), passed through <see cref="CertificateReader"/>.</summary>
        public static Issued Issue(
            string subject,
            AsymmetricCipherKeyPair key,
            Issued? issuer,
            bool ca,
            int? pathLength,
            DateTime? notBefore = null,
            DateTime? notAfter = null)
        {
            var signerKey = issuer?.Key ?? key;
            var generator = new X509V3CertificateGenerator();
            generator.SetSerialNumber(BigInteger.ValueOf(Interlocked.Increment(ref _serial)));
            generator.SetSubjectDN(new X509Name(subject));
            generator.SetIssuerDN(new X509Name(issuer?.Subject ?? subject));
            generator.SetNotBefore(notBefore ?? NotBefore);
            generator.SetNotAfter(notAfter ?? NotAfter);
            generator.SetPublicKey(key.Public);
            generator.AddExtension(X509Extensions.BasicConstraints, true, pathLength is { } length ? new BasicConstraints(length) : new BasicConstraints(ca));
            generator.AddExtension(
                X509Extensions.KeyUsage,
                true,
                new KeyUsage(ca ? KeyUsage.KeyCertSign | KeyUsage.CrlSign : KeyUsage.DigitalSignature | KeyUsage.KeyAgreement));
            generator.AddExtension(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(KeyId(key.Public)));
            generator.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(KeyId(signerKey.Public)));
            var certificate = generator.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", signerKey.Private, Random));
            return new Issued(CertificateReader.ReadCertificate(certificate.GetEncoded()), key, subject);
        }

        /// <summary>A CRL of <paramref name="issuer"/> listing <paramref name="revoked"/> with the given reason.</summary>
        public static X509Crl Crl(Issued issuer, X509Certificate? revoked, int reason, DateTime revokedAt)
        {
            var generator = new X509V2CrlGenerator();
            generator.SetIssuerDN(new X509Name(issuer.Subject));
            generator.SetThisUpdate(new DateTime(2025, 5, 1, 0, 0, 0, DateTimeKind.Utc));
            generator.SetNextUpdate(new DateTime(2025, 7, 1, 0, 0, 0, DateTimeKind.Utc));
            if (revoked is not null)
            {
                generator.AddCrlEntry(revoked.SerialNumber, revokedAt, reason);
            }

            generator.AddExtension(X509Extensions.CrlNumber, false, new CrlNumber(BigInteger.One));
            generator.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(KeyId(issuer.Key.Public)));
            var crl = generator.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", issuer.Key.Private, Random));
            return CertificateReader.ReadCrl(crl.GetEncoded());
        }

        /// <summary>RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING.</summary>
        public static byte[] KeyId(AsymmetricKeyParameter publicKey) =>
            SHA1.HashData(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(publicKey).PublicKey.GetBytes());

        /// <summary>Signs arbitrary tbsCertificate bytes and wraps them, for certificates BouncyCastle would not encode this way.</summary>
        public static byte[] SignRaw(byte[] tbs, AsymmetricKeyParameter signer)
        {
            var algorithm = new AlgorithmIdentifier(new DerObjectIdentifier("1.2.840.10045.4.3.2"));
            var ecdsa = SignerUtilities.GetSigner("SHA256WITHECDSA");
            ecdsa.Init(true, new ParametersWithRandom(signer, Random));
            ecdsa.BlockUpdate(tbs);
            var signature = ecdsa.GenerateSignature();
            using var stream = new MemoryStream();
            var body = new MemoryStream();
            body.Write(tbs);
            body.Write(algorithm.GetEncoded(Asn1Encodable.Der));
            body.Write(new DerBitString(signature).GetEncoded(Asn1Encodable.Der));
            var content = body.ToArray();
            stream.WriteByte(0x30);
            WriteLength(stream, content.Length);
            stream.Write(content);
            return stream.ToArray();
        }

        private static void WriteLength(Stream stream, int length)
        {
            if (length < 0x80)
            {
                stream.WriteByte((byte)length);
            }
            else if (length < 0x100)
            {
                stream.WriteByte(0x81);
                stream.WriteByte((byte)length);
            }
            else
            {
                stream.WriteByte(0x82);
                stream.WriteByte((byte)(length >> 8));
                stream.WriteByte((byte)length);
            }
        }
    }
}
