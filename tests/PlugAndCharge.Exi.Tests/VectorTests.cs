using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace PlugAndCharge.Exi.Tests;

/// <summary>Byte-for-byte agreement with the published ISO 15118-2 vectors.</summary>
public class VectorTests
{
    private static readonly ExiSchema Iso2 = ExiSchema.Iso2;

    [Fact]
    public void Hubject_request_decodes_and_reencodes_to_the_same_953_bytes()
    {
        var bytes = Vectors.HubjectRequest;
        Assert.Equal(953, bytes.Length);
        var doc = Iso2.Decode(bytes);
        Assert.Equal(new QName("urn:iso:15118:2:2013:MsgDef", "V2G_Message"), doc.Name);
        var req = doc.Descendant("CertificateInstallationReq")!;
        Assert.Equal("ID1", req.Attribute("Id")!.Value.ToString());
        Assert.Equal(613, req.Element("OEMProvisioningCert")!.Value.AsBytes().Length);
        var root = req.Descendant("RootCertificateID")!;
        Assert.Equal("DC=V2G,C=DE,O=RISE V2G Project,CN=V2GRootCA", root.Element("X509IssuerName")!.Value.AsString());
        Assert.Equal(12345, root.Element("X509SerialNumber")!.Value.AsInt64());
        Assert.Equal(bytes, Iso2.Encode(doc));
    }

    [Fact]
    public void Hubject_request_fragment_digest_matches_the_header_and_the_derived_fragment()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        var fragment = Iso2.EncodeFragment(doc.FindById("ID1")!);
        Assert.Equal(Vectors.Bytes("hubject_opcp/derived/req_frag_CertificateInstallationReq_ID1.exi"), fragment);
        var digestValue = doc.Descendant("DigestValue")!.Value.AsBytes();
        Assert.Equal(digestValue, SHA256.HashData(fragment));
        // and the derived fragment decodes back to the same element
        var decoded = Assert.Single(Iso2.DecodeFragment(fragment));
        Assert.Equal(ExiXml.ToXml(doc.FindById("ID1")!), ExiXml.ToXml(decoded));
    }

    [Fact]
    public void Hubject_request_SignedInfo_encodes_like_the_reference_and_the_signature_verifies()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        var signedInfo = doc.Descendant("SignedInfo")!;
        Assert.Equal(Vectors.Bytes("hubject_opcp/derived/req_SignedInfo.xmldsigfrag.exi"), ExiSignature.EncodeSignedInfo(signedInfo));
        Assert.Equal(Vectors.Bytes("hubject_opcp/derived/req_SignatureValue.bin"), doc.Descendant("SignatureValue")!.Value.AsBytes());

        using var cert = X509CertificateLoader.LoadCertificate(Vectors.Bytes("hubject_opcp/derived/req_OEMProvisioningCert.der"));
        var check = ExiSignature.Verify(Iso2, doc, cert);
        Assert.True(check.IsValid, check.ToString());
        Assert.Equal("#ID1", Assert.Single(check.References).Uri);
    }

    [Fact]
    public void Hubject_request_embedded_OEM_certificate_is_the_signer()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        using var cert = X509CertificateLoader.LoadCertificate(doc.Descendant("OEMProvisioningCert")!.Value.AsBytes());
        Assert.Contains("hubjectopenpnc0001", cert.Subject, StringComparison.Ordinal);
        Assert.True(ExiSignature.Verify(Iso2, doc, cert).IsValid);
    }

    [Fact]
    public void Tampered_request_reports_the_failing_reference()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        doc.Descendant("X509SerialNumber")!.Value = ExiValue.FromInteger(12346);
        using var cert = X509CertificateLoader.LoadCertificate(Vectors.Bytes("hubject_opcp/derived/req_OEMProvisioningCert.der"));
        var check = ExiSignature.Verify(Iso2, doc, cert);
        Assert.False(check.IsValid);
        Assert.True(check.SignatureValid); // SignedInfo itself is untouched
        Assert.Equal("#ID1", check.FailedReference!.Uri);
        Assert.False(check.FailedReference.DigestMatches);
    }

    [Fact]
    public void Failed_response_example_decodes_and_round_trips()
    {
        var bytes = Vectors.HubjectFailedResponse;
        var doc = Iso2.Decode(bytes);
        Assert.Equal("FAILED_NoCertificateAvailable", doc.Descendant("ResponseCode")!.Value.ToString());
        Assert.Equal(bytes, Iso2.Encode(doc));
    }

    [Theory]
    [InlineData("ContractSignatureCertChain", "id1")]
    [InlineData("ContractSignatureEncryptedPrivateKey", "id2")]
    [InlineData("DHpublickey", "id3")]
    [InlineData("eMAID", "id4")]
    public void Rise_fragments_and_digests_are_reproduced_from_the_message_xml(string name, string id)
    {
        var doc = ExiXml.Parse(Vectors.RiseXml);
        var expected = Vectors.RiseJson.GetProperty("msgbody_namespace").GetProperty(name);
        var fragment = Iso2.EncodeFragment(doc.FindById(id)!);
        Assert.Equal(expected.GetProperty("exi_fragment_hex").GetString(), Convert.ToHexString(fragment));
        Assert.Equal(expected.GetProperty("sha256_hex").GetString(), Convert.ToHexString(SHA256.HashData(fragment)));
        // the fragment decodes and re-encodes to itself
        var decoded = Iso2.DecodeFragment(fragment);
        Assert.Equal(fragment, Iso2.EncodeFragment(decoded));
    }

    [Fact]
    public void Rise_eMAID_fragment_uses_the_element_fragment_grammar()
    {
        var doc = ExiXml.Parse(Vectors.RiseXml);
        var fragment = Iso2.EncodeFragment(doc.FindById("id4")!);
        Assert.Equal(0x80, fragment[0]);
        Assert.Equal(0xEC, fragment[1]);
    }

    [Fact]
    public void Rise_SignedInfo_and_signature_verify_with_the_CPS_leaf()
    {
        var doc = ExiXml.Parse(Vectors.RiseXml);
        var signedInfo = doc.Descendant("SignedInfo")!;
        var expected = Vectors.RiseJson.GetProperty("msgbody_namespace").GetProperty("SignedInfo").GetProperty("exi_fragment_hex").GetString();
        Assert.Equal(expected, Convert.ToHexString(ExiSignature.EncodeSignedInfo(signedInfo)));

        using var cert = X509Certificate2.CreateFromPem(Vectors.Text("rise_v2g_signature_testdata/cpsLeafCert.pem"));
        var check = ExiSignature.Verify(Iso2, doc, cert);
        Assert.True(check.IsValid, check.ToString());
        Assert.Equal(new[] { "#id2", "#id1", "#id4", "#id3" }, check.References.Select(r => r.Uri));
    }

    [Fact]
    public void Rise_message_round_trips_through_exi()
    {
        var doc = ExiXml.Parse(Vectors.RiseXml);
        var exi = Iso2.Encode(doc);
        var decoded = Iso2.Decode(exi);
        Assert.Equal(exi, Iso2.Encode(decoded));
        using var cert = X509Certificate2.CreateFromPem(Vectors.Text("rise_v2g_signature_testdata/cpsLeafCert.pem"));
        Assert.True(ExiSignature.Verify(Iso2, decoded, cert).IsValid);
    }

    [Fact]
    public void Rise_empty_namespace_variant_is_a_different_non_conformant_encoding()
    {
        var doc = ExiXml.Parse(Vectors.RiseXml);
        var nonConformant = Vectors.RiseJson.GetProperty("empty_namespace_nonconformant").GetProperty("eMAID").GetProperty("exi_fragment_hex").GetString();
        Assert.NotEqual(nonConformant, Convert.ToHexString(Iso2.EncodeFragment(doc.FindById("id4")!)));
    }

    [Fact]
    public void AnnexJ2_fragment_SignedInfo_hashes_and_signature()
    {
        const string dir = "iso15118_2_annexJ2_everest/";
        var a = Vectors.Hex(dir + "iso_exi_a.hex");
        var b = Vectors.Hex(dir + "iso_exi_b.hex");
        Assert.Equal(Vectors.Hex(dir + "iso_exi_a_hash.hex"), SHA256.HashData(a));
        Assert.Equal(Vectors.Hex(dir + "iso_exi_b_hash.hex"), SHA256.HashData(b));

        // fragment a: an AuthorizationReq, decoded and encoded byte for byte
        var fragment = Assert.Single(Iso2.DecodeFragment(a));
        Assert.Equal("AuthorizationReq", fragment.Name.LocalName);
        Assert.Equal(a, Iso2.EncodeFragment(fragment));

        // SignedInfo b references it with the digest of a
        var signedInfo = Assert.Single(ExiSchema.XmlDsigSchema.DecodeFragment(b));
        Assert.Equal(b, ExiSignature.EncodeSignedInfo(signedInfo));
        Assert.Equal(SHA256.HashData(a), signedInfo.Descendant("DigestValue")!.Value.AsBytes());
        Assert.Equal("#" + fragment.Attribute("Id")!.Value, signedInfo.Element("Reference")!.Attribute("URI")!.Value.ToString());

        // the signature r||s verifies over b with the published public key
        var pub = Vectors.Hex(dir + "iso_public_key.hex");
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = pub[^64..^32], Y = pub[^32..] },
        });
        var alg = new EcdsaExiSignatureAlgorithm(key, canSign: false);
        Assert.True(alg.Verify(b, Vectors.Hex(dir + "iso_exi_sig.hex")));

        // and the whole signature verifies when wrapped in a message carrying both
        var sig = new ExiElement(new QName(ExiSignature.DsNamespace, "Signature"));
        sig.Add(signedInfo);
        sig.Add(new ExiElement(new QName(ExiSignature.DsNamespace, "SignatureValue"), ExiValue.FromBytes(Vectors.Hex(dir + "iso_exi_sig.hex"))));
        var check = ExiSignature.VerifySignature(Iso2, fragment, sig, alg);
        Assert.True(check.IsValid, check.ToString());
    }
}
