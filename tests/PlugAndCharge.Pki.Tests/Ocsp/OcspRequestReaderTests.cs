using Xunit;
using Org.BouncyCastle.Math;
using PlugAndCharge.Pki.Ocsp;

namespace PlugAndCharge.Pki.Tests.Ocsp;

public class OcspRequestReaderTests(OcspTestPki pki) : IClassFixture<OcspTestPki>
{
    [Theory]
    [InlineData("1.3.14.3.2.26", OcspHashAlgorithm.Sha1)]
    [InlineData("2.16.840.1.101.3.4.2.1", OcspHashAlgorithm.Sha256)]
    [InlineData("2.16.840.1.101.3.4.2.2", OcspHashAlgorithm.Sha384)]
    [InlineData("2.16.840.1.101.3.4.2.3", OcspHashAlgorithm.Sha512)]
    [InlineData("1.2.840.113549.2.5", OcspHashAlgorithm.Unsupported)] // MD5: read, then answered unknown
    public async Task Reads_the_CertID_of_each_hash_algorithm(string oid, OcspHashAlgorithm expected)
    {
        var der = OcspTestPki.Request(await pki.CaCertificateAsync(OcspTestPki.MoSubCa), new BigInteger("0123456789abcdef", 16), oid);
        var request = OcspRequestReader.Read(der, 64);
        Assert.NotNull(request);
        var id = Assert.Single(request!.CertIds);
        Assert.Equal(expected, id.HashAlgorithm);
        Assert.Equal(Convert.FromHexString("0123456789ABCDEF"), der[id.Serial]);
        Assert.True(request.IsCacheable);
        Assert.Null(request.NonceExtensionValue);
    }

    [Fact]
    public async Task Reads_several_requests_and_the_nonce()
    {
        var issuer = await pki.CaCertificateAsync(OcspTestPki.MoSubCa);
        var der = OcspTestPki.Request([(issuer, BigInteger.One, OcspTestPki.Sha1), (issuer, BigInteger.Two, OcspTestPki.Sha256), (issuer, BigInteger.Three, OcspTestPki.Sha512)], new byte[16]);
        var request = OcspRequestReader.Read(der, 64)!;
        Assert.Equal(3, request.CertIds.Count);
        Assert.Equal([1, 2, 3], request.CertIds.Select(i => (int)der[i.Serial][0]));
        Assert.NotNull(request.NonceExtensionValue);
        Assert.Equal(new byte[] { 0x04, 0x10 }.Concat(new byte[16]), der[request.NonceExtensionValue!.Value]);
        Assert.False(request.IsCacheable);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(32, true)]
    [InlineData(33, false)]
    [InlineData(128, false)]
    public async Task Nonces_of_1_to_32_octets_are_accepted_as_RFC_8954_says(int length, bool accepted)
    {
        var issuer = await pki.CaCertificateAsync(OcspTestPki.MoSubCa);
        Assert.Equal(accepted, OcspRequestReader.Read(OcspTestPki.Request(issuer, BigInteger.One, nonce: new byte[length]), 64) != null);
        // The same rule for clients from before RFC 8954 that send the nonce bytes bare.
        var bare = Enumerable.Repeat((byte)0x41, length).ToArray();
        Assert.Equal(accepted, OcspRequestReader.Read(OcspTestPki.Request([(issuer, BigInteger.One, OcspTestPki.Sha1)], bare, rawNonce: true), 64) != null);
    }

    [Fact]
    public async Task Garbage_truncation_trailing_bytes_and_too_many_CertIDs_are_malformed()
    {
        var issuer = await pki.CaCertificateAsync(OcspTestPki.MoSubCa);
        var good = OcspTestPki.Request(issuer, BigInteger.One);
        Assert.Null(OcspRequestReader.Read([], 64));
        Assert.Null(OcspRequestReader.Read("hello, world"u8, 64));
        Assert.Null(OcspRequestReader.Read([0x30, 0x00], 64)); // no tbsRequest
        Assert.Null(OcspRequestReader.Read([0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], 64)); // a length far past the end
        for (var cut = 1; cut < good.Length; cut++) Assert.Null(OcspRequestReader.Read(good.AsSpan(0, cut), 64));
        Assert.Null(OcspRequestReader.Read([.. good, 0x00], 64));
        var many = OcspTestPki.Request(Enumerable.Range(1, 5).Select(i => (issuer, BigInteger.ValueOf(i), OcspTestPki.Sha1)));
        Assert.NotNull(OcspRequestReader.Read(many, 5));
        Assert.Null(OcspRequestReader.Read(many, 4));
        var random = new Random(4);
        for (var i = 0; i < 2000; i++)
        {
            var mutated = (byte[])good.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            OcspRequestReader.Read(mutated, 64); // must not throw, whatever it decides
        }
    }

    [Fact]
    public void An_empty_request_list_and_a_version_other_than_v1_are_malformed()
    {
        // OCSPRequest { TBSRequest { requestList SEQUENCE {} } }
        Assert.Null(OcspRequestReader.Read(Convert.FromHexString("300430023000"), 64));
        // version [0] EXPLICIT INTEGER 1 (v2 does not exist) before an empty list
        Assert.Null(OcspRequestReader.Read(Convert.FromHexString("30093007A0030201013000"), 64));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("percent")]
    [InlineData("url-safe")]
    [InlineData("space-for-plus")]
    [InlineData("unpadded")]
    public void GET_encodings_decode_to_the_same_request(string style)
    {
        // Bytes whose base64 has '+', '/' and '=' in it.
        var der = new byte[] { 0xFB, 0xEF, 0xBE, 0xFF, 0xFF, 0xFF, 0x01 }; // "++++////AQ=="
        var b64 = Convert.ToBase64String(der);
        Assert.Contains('+', b64); Assert.Contains('/', b64); Assert.Contains('=', b64);
        var encoded = style switch
        {
            "plain" => b64,
            "percent" => Uri.EscapeDataString(b64),
            "url-safe" => b64.Replace('+', '-').Replace('/', '_').TrimEnd('='),
            "space-for-plus" => b64.Replace('+', ' '),
            _ => b64.TrimEnd('='),
        };
        var output = new byte[64];
        var n = OcspGetEncoding.Decode(encoded, output);
        Assert.Equal(der, output[..n]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("%")]
    [InlineData("%G1")]
    [InlineData("abc!")]
    [InlineData("A")]
    public void Broken_GET_encodings_are_refused(string encoded) => Assert.Equal(-1, OcspGetEncoding.Decode(encoded, new byte[64]));
}
