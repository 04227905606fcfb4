using System.Numerics;
using Xunit;

namespace PlugAndCharge.Exi.Tests;

/// <summary>No artificial limits, typed values, hostile input and the less common EXI representations.</summary>
public class CodecTests
{
    private static readonly ExiSchema Iso2 = ExiSchema.Iso2;
    private const string Ds = "http://www.w3.org/2000/09/xmldsig#";
    private const string Body = "urn:iso:15118:2:2013:MsgBody";
    private const string Types = "urn:iso:15118:2:2013:MsgDataTypes";

    private static ExiElement RequestWithRoots(int roots, string issuer, BigInteger serial, int certLength)
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        var req = doc.Descendant("CertificateInstallationReq")!;
        req.Element("OEMProvisioningCert")!.Value = ExiValue.FromBytes(Enumerable.Range(0, certLength).Select(i => (byte)i).ToArray());
        var list = req.Element("ListOfRootCertificateIDs")!;
        list.Children.Clear();
        for (int i = 0; i < roots; i++)
        {
            var id = new ExiElement(Types, "RootCertificateID");
            id.Add(new ExiElement(new QName(Ds, "X509IssuerName"), ExiValue.FromString(issuer + i)));
            id.Add(new ExiElement(new QName(Ds, "X509SerialNumber"), ExiValue.FromInteger(serial + i)));
            list.Add(id);
        }
        return doc;
    }

    [Fact]
    public void Long_issuers_wide_serials_800_byte_certificates_and_20_roots()
    {
        string issuer = "CN=" + new string('x', 200) + ",O=Some Very Long Organisation Name GmbH & Co. KG,C=DE,DC=V2G,";
        BigInteger serial = BigInteger.Parse("123456789012345678901234567890123456789");
        var doc = RequestWithRoots(20, issuer, serial, 800);
        var bytes = Iso2.Encode(doc);
        var back = Iso2.Decode(bytes);
        var ids = back.Descendant("ListOfRootCertificateIDs")!.Elements().ToArray();
        Assert.Equal(20, ids.Length);
        Assert.Equal(issuer + "19", ids[19].Element("X509IssuerName")!.Value.AsString());
        Assert.Equal(serial + 19, ids[19].Element("X509SerialNumber")!.Value.AsBigInteger());
        Assert.Equal(ExiValueKind.BigInteger, ids[0].Element("X509SerialNumber")!.Value.Kind);
        Assert.Equal(800, back.Descendant("OEMProvisioningCert")!.Value.AsBytes().Length);
        Assert.Equal(bytes, Iso2.Encode(back));
    }

    [Fact]
    public void Negative_and_64_bit_boundary_serials_round_trip()
    {
        foreach (var serial in new[] { BigInteger.MinusOne, new BigInteger(long.MaxValue), new BigInteger(long.MaxValue) + 1, new BigInteger(ulong.MaxValue) + 1, -(BigInteger.One << 100) })
        {
            var doc = RequestWithRoots(1, "CN=x", serial, 10);
            var back = Iso2.Decode(Iso2.Encode(doc));
            Assert.Equal(serial, back.Descendant("X509SerialNumber")!.Value.AsBigInteger());
        }
    }

    [Fact]
    public void Lexical_values_from_xml_text_are_converted_to_schema_types()
    {
        var typed = Iso2.Decode(Vectors.HubjectRequest);
        var fromText = ExiXml.Parse(ExiXml.ToXml(typed, indent: true));
        Assert.Equal(ExiValueKind.String, fromText.Descendant("X509SerialNumber")!.Value.Kind);
        Assert.Equal(Vectors.HubjectRequest, Iso2.Encode(fromText));
    }

    [Fact]
    public void Xml_text_encodes_directly_and_malformed_xml_is_a_typed_error()
    {
        Assert.Equal(Vectors.HubjectRequest, Iso2.EncodeXml(ExiXml.ToXml(Iso2.Decode(Vectors.HubjectRequest))));
        var signedInfo = ExiXml.ToXml(Iso2.Decode(Vectors.HubjectRequest).Descendant("SignedInfo")!);
        Assert.Equal(Vectors.Bytes("hubject_opcp/derived/req_SignedInfo.xmldsigfrag.exi"), ExiSchema.XmlDsigSchema.EncodeXmlFragment(signedInfo));
        Assert.Throws<ExiEncodeException>(() => Iso2.EncodeXml("<V2G_Message"));
    }

    [Fact]
    public void Invalid_models_give_typed_encode_errors_with_a_path()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        doc.Descendant("X509SerialNumber")!.Value = ExiValue.FromString("twelve");
        var ex = Assert.Throws<ExiEncodeException>(() => Iso2.Encode(doc));
        Assert.Contains("X509SerialNumber", ex.Path, StringComparison.Ordinal);

        var missing = Iso2.Decode(Vectors.HubjectRequest);
        missing.Descendant("CertificateInstallationReq")!.Children.RemoveAt(0);
        Assert.Throws<ExiEncodeException>(() => Iso2.Encode(missing));

        var badEnum = Iso2.Decode(Vectors.HubjectFailedResponse);
        badEnum.Descendant("ResponseCode")!.Value = ExiValue.FromString("NOPE");
        Assert.Contains("ResponseCode", Assert.Throws<ExiEncodeException>(() => Iso2.Encode(badEnum)).Path, StringComparison.Ordinal);

        var unknown = new ExiElement("urn:iso:15118:2:2013:MsgDef", "V2G_Message");
        unknown.Add(new ExiElement("urn:x", "Nope"));
        Assert.Throws<ExiEncodeException>(() => Iso2.Encode(unknown));
    }

    [Fact]
    public void Truncated_input_at_every_length_is_a_typed_error()
    {
        var bytes = Vectors.HubjectRequest;
        for (int len = 0; len < bytes.Length; len++)
        {
            var ex = Assert.Throws<ExiDecodeException>(() => Iso2.Decode(bytes.AsSpan(0, len)));
            Assert.False(ex.Reason.StartsWith("internal", StringComparison.Ordinal), ex.Reason);
        }
    }

    [Fact]
    public void Declared_lengths_beyond_the_input_are_refused_before_allocation()
    {
        // SessionID (hexBinary) claiming 2^31-1 bytes: V2G_Message/Header/SessionID then length FF FF FF FF 07.
        var w = new IO.BitWriter();
        w.WriteBits(0x80, 8);
        w.WriteBits(76, 7); // SE(V2G_Message)
        w.WriteBits(0, 1); // SE(Header)
        w.WriteBits(0, 1); // SE(SessionID)
        w.WriteBits(0, 1); // CH
        w.WriteUnsigned((ulong)int.MaxValue);
        var ex = Assert.Throws<ExiDecodeException>(() => Iso2.Decode(w.ToArray()));
        Assert.Contains("exceeds the remaining input", ex.Reason, StringComparison.Ordinal);
        Assert.True(ex.BitPosition > 8);
    }

    [Fact]
    public void Header_problems_are_typed()
    {
        Assert.Contains("distinguishing", Assert.Throws<ExiDecodeException>(() => Iso2.Decode(new byte[] { 0x40, 0 })).Reason, StringComparison.Ordinal);
        Assert.Contains("options", Assert.Throws<ExiDecodeException>(() => Iso2.Decode(new byte[] { 0xA0, 0 })).Reason, StringComparison.Ordinal);
        Assert.Contains("trailing", Assert.Throws<ExiDecodeException>(() => Iso2.Decode(Vectors.HubjectRequest.Concat(new byte[] { 0, 0 }).ToArray())).Reason, StringComparison.Ordinal);
        // the optional "$EXI" cookie is accepted
        var cookie = "$EXI"u8.ToArray().Concat(Vectors.HubjectRequest).ToArray();
        Assert.Equal("V2G_Message", Iso2.Decode(cookie).Name.LocalName);
    }

    [Fact]
    public void Nesting_depth_is_bounded()
    {
        // Undeclared elements nested through SE(*) second-level events: each level is cheap to express.
        var root = new ExiElement(Ds, "Object");
        var cur = root;
        for (int i = 0; i < 150; i++)
        {
            var next = new ExiElement("urn:deep", "d");
            cur.Add(next);
            cur = next;
        }
        var bytes = ExiSchema.XmlDsigSchema.EncodeFragment(root);
        Assert.Contains("nesting", Assert.Throws<ExiDecodeException>(() => ExiSchema.XmlDsigSchema.DecodeFragment(bytes)).Reason, StringComparison.Ordinal);
        Assert.Single(ExiSchema.XmlDsigSchema.DecodeFragment(bytes, new ExiOptions { MaxDepth = 200 }));
    }

    [Theory]
    [InlineData("decimal", "-12345678901234567890.000123")]
    [InlineData("decimal", "0")]
    [InlineData("double", "1.5E10")]
    [InlineData("double", "-INF")]
    [InlineData("float", "NaN")]
    [InlineData("dateTime", "2024-02-29T23:59:60.125+05:30")]
    [InlineData("dateTime", "-0044-03-15T12:00:00Z")]
    [InlineData("date", "2024-01-31")]
    [InlineData("time", "08:15:00.5Z")]
    [InlineData("gYear", "2026")]
    [InlineData("gYearMonth", "2026-11")]
    [InlineData("gMonthDay", "--12-24")]
    [InlineData("gDay", "---07")]
    [InlineData("gMonth", "--03-14:00")]
    [InlineData("NMTOKENS", "a b c")]
    [InlineData("boolean", "true")]
    [InlineData("unsignedLong", "18446744073709551615")]
    public void Xsi_type_casts_carry_every_builtin_representation(string type, string lexical)
    {
        // KeyName is xs:string; xsi:type (a second-level event in non-strict mode) switches the value's type.
        var el = new ExiElement(new QName(Ds, "KeyName"), ExiValue.FromString(lexical)) { XsiType = new QName("http://www.w3.org/2001/XMLSchema", type) };
        var bytes = ExiSchema.XmlDsigSchema.EncodeFragment(el);
        var back = Assert.Single(ExiSchema.XmlDsigSchema.DecodeFragment(bytes));
        Assert.Equal(el.XsiType, back.XsiType);
        string expected = type switch
        {
            "double" when lexical == "1.5E10" => "15E9",
            "time" => "08:15:00.5Z",
            _ => lexical,
        };
        Assert.Equal(expected, back.Value.ToString());
        Assert.Equal(bytes, ExiSchema.XmlDsigSchema.EncodeFragment(back));
    }

    [Fact]
    public void Xsi_nil_and_wildcard_content_round_trip()
    {
        var nil = new ExiElement(new QName(Ds, "DigestValue")) { XsiNil = true };
        var back = Assert.Single(ExiSchema.XmlDsigSchema.DecodeFragment(ExiSchema.XmlDsigSchema.EncodeFragment(nil)));
        Assert.True(back.XsiNil);

        // ds:Object holds ##any content: an unknown element with attributes, text and children (built-in grammar, learning)
        var obj = new ExiElement(Ds, "Object");
        obj.SetAttribute(new QName("Id"), "o1");
        for (int i = 0; i < 3; i++)
        {
            var x = new ExiElement("urn:example", "Item");
            x.SetAttribute(new QName("n"), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            x.Add(new ExiText("text " + i));
            x.Add(new ExiElement("urn:example", "Leaf"));
            obj.Add(x);
            obj.Add(new ExiText(" "));
        }
        var bytes = ExiSchema.XmlDsigSchema.EncodeFragment(obj);
        var decoded = Assert.Single(ExiSchema.XmlDsigSchema.DecodeFragment(bytes));
        Assert.Equal(ExiXml.ToXml(obj), ExiXml.ToXml(decoded));
        Assert.Equal(bytes, ExiSchema.XmlDsigSchema.EncodeFragment(decoded));
    }

    [Fact]
    public void Strict_mode_uses_narrower_event_codes()
    {
        var doc = Iso2.Decode(Vectors.HubjectRequest);
        var strict = new ExiOptions { Strict = true };
        var bytes = Iso2.Encode(doc, strict);
        Assert.True(bytes.Length < Vectors.HubjectRequest.Length);
        Assert.Equal(ExiXml.ToXml(doc), ExiXml.ToXml(Iso2.Decode(bytes, strict)));
        Assert.Throws<ExiDecodeException>(() => Iso2.Decode(Vectors.HubjectRequest, strict));
    }

    [Fact]
    public void Schemas_are_found_by_name_and_namespace()
    {
        Assert.Same(ExiSchema.Iso20Dc, ExiSchema.FromName("ISO20-DC"));
        Assert.Same(ExiSchema.Din, ExiSchema.FromNamespace("urn:din:70121:2012:MsgBody"));
        Assert.Same(ExiSchema.XmlDsigSchema, ExiSchema.FromNamespace(Ds));
        Assert.Null(ExiSchema.FromName("iso99"));
        Assert.Contains(new QName(Body, "CertificateInstallationReq"), Iso2.GlobalElements);
    }

    [Fact]
    public void Grammars_follow_the_reference_event_codes()
    {
        var g = Iso2.Grammar(ExiOptions.Iso15118);
        // DocContent: 80 global elements + SE(*) -> 7 bits, V2G_Message = 76 (the vector's first byte after the header).
        Assert.Equal(7, g.DocContentBits);
        Assert.Equal(76, Array.FindIndex(g.GlobalElements, q => q.LocalName == "V2G_Message"));
        // FragmentContent: 243 qnames + SE(*) + ED -> 8 bits; the RISE and Hubject fragments start with these codes.
        Assert.Equal(8, g.FragmentContentBits);
        Assert.Equal(15, Array.FindIndex(g.FragmentElements, q => q.LocalName == "CertificateInstallationReq"));
        Assert.Equal(0xEC, Array.FindIndex(g.FragmentElements, q => q.LocalName == "eMAID"));
        Assert.Same(g.ElementFragment, g.FragmentElementGrammars[0xEC]); // two declarations with different types
        var dsig = ExiSchema.XmlDsigSchema.Grammar(ExiOptions.Iso15118);
        Assert.Equal(32, Array.FindIndex(dsig.FragmentElements, q => q.LocalName == "SignedInfo"));
    }
}
