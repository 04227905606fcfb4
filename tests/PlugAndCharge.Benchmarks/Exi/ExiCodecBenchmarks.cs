using BenchmarkDotNet.Attributes;
using PlugAndCharge.Exi;

namespace PlugAndCharge.Benchmarks.Exi;

/// <summary>
/// Decode/encode of the real 953-byte CertificateInstallationReq and of a full CertificateInstallationRes
/// (six real certificates, ~4.4 KB). Reference: libcbv2g (C, -O2) 13.5/11.1 µs and 61/30 µs.
/// Run: dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*ExiCodec*'
/// (the vectors are tests/vectors/hubject_opcp, found from the repository root).
/// </summary>
[MemoryDiagnoser]
public class ExiCodecBenchmarks
{
    private static readonly ExiSchema Iso2 = ExiSchema.Iso2;
    private byte[] _request = Array.Empty<byte>();
    private ExiElement _requestModel = null!;
    private byte[] _response = Array.Empty<byte>();
    private ExiElement _responseModel = null!;

    [GlobalSetup]
    public void Setup()
    {
        string vectors = PlugAndCharge.Tests.TestPaths.Vector("");
        _request = File.ReadAllBytes(Path.Combine(vectors, "hubject_opcp", "ccp_certificateInstallationReq_b778d3ffc6aa.exi"));
        _requestModel = Iso2.Decode(_request);
        _responseModel = BuildResponse(vectors);
        _response = Iso2.Encode(_responseModel);
        _responseModel = Iso2.Decode(_response);
        Console.WriteLine($"// request {_request.Length} bytes, response {_response.Length} bytes");
    }

    [Benchmark]
    public ExiElement DecodeRequest953() => Iso2.Decode(_request);

    [Benchmark]
    public byte[] EncodeRequest953() => Iso2.Encode(_requestModel);

    [Benchmark]
    public ExiElement DecodeCertificateInstallationRes() => Iso2.Decode(_response);

    [Benchmark]
    public byte[] EncodeCertificateInstallationRes() => Iso2.Encode(_responseModel);

    /// <summary>
    /// The RISE response message with its chains replaced by Hubject QA certificates (CPS leaf + 2 sub-CAs,
    /// contract leaf + 2 MO sub-CAs): the size and shape of a production CertificateInstallationRes.
    /// </summary>
    internal static ExiElement BuildResponse(string vectors)
    {
        var doc = ExiXml.Parse(File.ReadAllText(Path.Combine(vectors, "rise_v2g_signature_testdata", "CertificateInstallationRes-MsgBody-namespace.xml")));
        byte[] Cert(string name) => File.ReadAllBytes(Path.Combine(vectors, "hubject_opcp", name));
        void Fill(ExiElement chain, string leaf, string sub1, string sub2)
        {
            chain.Element("Certificate")!.Value = ExiValue.FromBytes(Cert(leaf));
            var subs = chain.Element("SubCertificates")!.Elements("Certificate").ToArray();
            subs[0].Value = ExiValue.FromBytes(Cert(sub1));
            subs[1].Value = ExiValue.FromBytes(Cert(sub2));
        }
        var res = doc.Descendant("CertificateInstallationRes")!;
        Fill(res.Element("SAProvisioningCertificateChain")!, "cps_cpsCertificate_3321748f5b63.der", "cps_cpsCa2Certificate_7de040d10900.der", "cps_cpsCa1Certificate_38e38c00ae57.der");
        Fill(res.Element("ContractSignatureCertChain")!, "ccp_contractCertificate_62759b413d92.der", "cps_contractSubCert1_42250cc9dfdb.der", "cps_contractSubCert0_8cff7bb65992.der");
        return doc;
    }

}
