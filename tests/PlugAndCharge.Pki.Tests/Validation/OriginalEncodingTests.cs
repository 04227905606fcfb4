using Org.BouncyCastle.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>Signatures are verified over the bytes that were signed, not over BouncyCastle's re-encoding of them.</summary>
    public sealed class OriginalEncodingTests
    {
        [Fact]
        public void Non_der_boolean_in_a_signed_certificate_still_verifies_when_read_through_the_reader()
        {
            var root = TestPki.Root("CN=BER Root");
            var canonical = TestPki.Leaf(root, "CN=BER Leaf").Certificate;
            var tbs = canonical.GetTbsCertificate();
            // The critical flag of the first critical extension: BOOLEAN TRUE as 0x01 is valid BER, not DER.
            var flag = tbs.AsSpan().IndexOf([(byte)0x01, (byte)0x01, (byte)0xFF]);
            Assert.True(flag > 0);
            tbs[flag + 2] = 0x01;
            var der = TestPki.SignRaw(tbs, root.Key.Private);

            var read = CertificateReader.ReadCertificate(der);
            var reencoded = new X509Certificate(der);
            var validator = new ChainValidator();

            Assert.False(reencoded.GetEncoded().AsSpan().SequenceEqual(der));
            var fromReader = validator.Validate(new ChainValidationRequest { Leaf = read, TrustAnchors = [root.Certificate], At = TestPki.At });
            var fromParser = validator.Validate(new ChainValidationRequest { Leaf = reencoded, TrustAnchors = [root.Certificate], At = TestPki.At });
            Assert.True(fromReader.IsValid, fromReader.Detail);
            Assert.Equal(ChainFailureReason.BadSignature, fromParser.Reason);
        }

        [Fact]
        public void Garbage_is_rejected_as_a_format_error()
        {
            Assert.Throws<FormatException>(() => CertificateReader.ReadCertificate([0x30, 0x03, 0x02, 0x01, 0x01]));
            Assert.Throws<FormatException>(() => CertificateReader.ReadCertificate("no pem here"u8));
        }
    }
}
