using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Ocsp;

namespace PlugAndCharge.Benchmarks.Ocsp;

/// <summary>
/// The OCSP responder without HTTP: reading a request with <see cref="System.Formats.Asn1.AsnDecoder"/> (what the
/// responder does) against BouncyCastle's OcspReq, the pre-signed cached answer (the hot path), and an answer signed
/// per request because it carries a nonce.
/// `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*OcspResponder*' --job short --inProcess`.
/// </summary>
[MemoryDiagnoser]
public class OcspResponderBenchmarks
{
    private const string Ca = "iso2-mo-subca2";
    private OcspResponder _responder = null!;
    private byte[] _request = null!;
    private byte[] _requestWithNonce = null!;

    [GlobalSetup]
    public void Setup()
    {
        var ca = CertificateAuthorityServices.InMemory();
        DevelopmentHierarchy.CreateAsync(ca.Hierarchy, ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "bench").GetAwaiter().GetResult();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var emaid = Emaid.Create("DE", "8AA", "C00000001").Normalized;
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid}, O=Bench, C=DE, DC=MO", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = Ca, Csr = csr, Actor = "bench" }).GetAwaiter().GetResult();
        var id = new CertificateID(new AlgorithmIdentifier(new DerObjectIdentifier("1.3.14.3.2.26"), DerNull.Instance), issued.IssuerChain[0], issued.Certificate.SerialNumber);
        var g = new OcspReqGenerator();
        g.AddRequest(id);
        _request = g.Generate().GetEncoded();
        var e = new X509ExtensionsGenerator();
        e.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(RandomNumberGenerator.GetBytes(16)).GetEncoded());
        g.SetRequestExtensions(e.Generate());
        _requestWithNonce = g.Generate().GetEncoded();
        _responder = new OcspResponder(ca);
        if (_responder.RespondAsync(Ca, _request).AsTask().GetAwaiter().GetResult().Status != PlugAndCharge.Pki.Ocsp.OcspResponseStatus.Successful)
            throw new InvalidOperationException("The responder does not answer the benchmark request.");
    }

    [GlobalCleanup]
    public void Cleanup() => _responder.Dispose();

    [Benchmark(Baseline = true)]
    public int ReadRequest_AsnDecoder() => OcspRequestReader.Read(_request, 64)!.CertIds.Count;

    [Benchmark]
    public int ReadRequest_BouncyCastle() => new OcspReq(_request).GetRequestList().Length;

    [Benchmark]
    public async Task<int> CachedAnswer() => (await _responder.RespondAsync(Ca, _request)).Der.Length;

    [Benchmark]
    public async Task<int> SignedAnswerWithNonce() => (await _responder.RespondAsync(Ca, _requestWithNonce)).Der.Length;
}
