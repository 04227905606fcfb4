using Xunit;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.Tests.Ocsp;

/// <summary>A clock the tests move by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The development hierarchy in memory with a clock the tests control, and OCSP requests built by BouncyCastle (an independent encoder).</summary>
public sealed class OcspTestPki : IAsyncLifetime
{
    public const string MoSubCa = "iso2-mo-subca2";
    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);
    public CertificateAuthorityServices Ca { get; }

    public OcspTestPki() => Ca = CertificateAuthorityServices.InMemory(Clock);

    public Task InitializeAsync() => DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "test");
    public Task DisposeAsync() => Task.CompletedTask;

    public async Task<IssuedCertificate> IssueContractAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var emaid = PlugAndCharge.Core.Identifiers.Emaid.Create("DE", "8AA", "C" + RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Normalized;
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid}, O=Test eMSP, C=DE, DC=MO", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        return await Ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = MoSubCa, Csr = csr, Actor = "test" });
    }

    public async Task<X509Certificate> CaCertificateAsync(string caId) => (await Ca.Authorities.GetAsync(caId)).Certificate;

    public static readonly string Sha1 = "1.3.14.3.2.26";
    public static readonly string Sha256 = "2.16.840.1.101.3.4.2.1";
    public static readonly string Sha384 = "2.16.840.1.101.3.4.2.2";
    public static readonly string Sha512 = "2.16.840.1.101.3.4.2.3";

    public static byte[] Request(X509Certificate issuer, BigInteger serial, string hash = "1.3.14.3.2.26", byte[]? nonce = null) =>
        Request([(issuer, serial, hash)], nonce);

    public static byte[] Request(IEnumerable<(X509Certificate Issuer, BigInteger Serial, string Hash)> ids, byte[]? nonce = null, bool rawNonce = false)
    {
        var g = new OcspReqGenerator();
        foreach (var (issuer, serial, hash) in ids) g.AddRequest(new CertificateID(new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(new DerObjectIdentifier(hash), DerNull.Instance), issuer, serial));
        if (nonce != null)
        {
            var e = new X509ExtensionsGenerator();
            // RFC 8954: extnValue is the DER of an OCTET STRING holding the nonce; pre-8954 clients put the bytes bare.
            e.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, rawNonce ? nonce : new DerOctetString(nonce).GetEncoded());
            g.SetRequestExtensions(e.Generate());
        }
        return g.Generate().GetEncoded();
    }

    /// <summary>Parses a successful response and checks its signature by the certificate it carries.</summary>
    public static BasicOcspResp Verified(byte[] der)
    {
        var resp = new OcspResp(der);
        Assert.Equal(0, resp.Status);
        var basic = (BasicOcspResp)resp.GetResponseObject();
        var signer = Assert.Single(basic.GetCerts());
        Assert.True(basic.Verify(signer.GetPublicKey()), "the response signature verifies under the included signer certificate");
        return basic;
    }
}
