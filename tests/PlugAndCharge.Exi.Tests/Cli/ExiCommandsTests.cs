using PlugAndCharge.Cli.Exi;
using Xunit;

namespace PlugAndCharge.Exi.Tests.Cli;

public class ExiCommandsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = ExiCommands.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Help_prints_usage()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("pnc exi [command]", output, StringComparison.Ordinal);
        Assert.Contains("decode <FILE|BASE64|HEX>", output, StringComparison.Ordinal);
        Assert.Contains("encode <FILE.xml>", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_file_with_autodetected_schema_prints_xml()
    {
        var (code, output, err) = Run("decode", Vectors.PathOf("hubject_opcp/ccp_certificateInstallationReq_b778d3ffc6aa.exi"));
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("CertificateInstallationReq", output, StringComparison.Ordinal);
        Assert.Contains("Id=\"ID1\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_base64_text_file_and_json()
    {
        var (code, output, _) = Run("decode", Vectors.PathOf("hubject_opcp/ccp_certificateInstallationRes_failed_example.b64"), "--schema", "iso2", "--json");
        Assert.Equal(0, code);
        Assert.Contains("\"FAILED_NoCertificateAvailable\"", output, StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal("V2G_Message", doc.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public void Decode_hex_fragment_with_expected_element()
    {
        string hex = Vectors.Text("iso15118_2_annexJ2_everest/iso_exi_a.hex").Trim();
        var (code, output, err) = Run("decode", "--fragment", "AuthorizationReq", hex, "--schema", "iso2");
        Assert.True(code == 0, err);
        Assert.Contains("AuthorizationReq", output, StringComparison.Ordinal);
        var (code2, _, err2) = Run("decode", hex, "--schema", "iso2", "--fragment", "SessionSetupReq");
        Assert.Equal(1, code2);
        Assert.Contains("does not start with", err2, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_garbage_is_a_typed_error_with_exit_1()
    {
        var (code, output, err) = Run("decode", "80FFFFFFFF", "--schema", "iso2");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("pnc exi: decode error: EXI decode error at bit", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("decode")]
    [InlineData("decode", "80", "--schema", "iso99")]
    [InlineData("decode", "80", "--bogus")]
    [InlineData("encode", "/nonexistent/file.xml")]
    [InlineData("decode", "not hex or base64!")]
    public void User_mistakes_exit_2_with_one_line(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("pnc exi: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void No_arguments_is_a_usage_error()
    {
        Assert.Equal(2, Run().Code);
    }

    [Fact]
    public void Encode_xml_round_trips_to_the_vector_bytes()
    {
        var (code, xml, _) = Run("decode", Vectors.PathOf("hubject_opcp/ccp_certificateInstallationReq_b778d3ffc6aa.exi"));
        Assert.Equal(0, code);
        string path = Path.Combine(Path.GetTempPath(), $"pnc-exi-{Guid.NewGuid():N}.xml");
        try
        {
            File.WriteAllText(path, xml);
            var (c2, b64, err) = Run("encode", path);
            Assert.True(c2 == 0, err);
            Assert.Equal(Vectors.HubjectRequest, Convert.FromBase64String(b64.Trim()));
            var (c3, hex, _) = Run("encode", path, "--hex", "--schema", "iso2");
            Assert.Equal(0, c3);
            Assert.Equal(Convert.ToHexString(Vectors.HubjectRequest), hex.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Encode_signedinfo_fragment_with_xmldsig_schema()
    {
        var doc = ExiSchema.Iso2.Decode(Vectors.HubjectRequest);
        string path = Path.Combine(Path.GetTempPath(), $"pnc-exi-{Guid.NewGuid():N}.xml");
        try
        {
            File.WriteAllText(path, ExiXml.ToXml(doc.Descendant("SignedInfo")!, indent: true));
            var (code, hex, err) = Run("encode", path, "--fragment", "--hex");
            Assert.True(code == 0, err);
            Assert.Equal(Convert.ToHexString(Vectors.Bytes("hubject_opcp/derived/req_SignedInfo.xmldsigfrag.exi")), hex.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Encode_invalid_model_is_exit_1()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pnc-exi-{Guid.NewGuid():N}.xml");
        try
        {
            File.WriteAllText(path, "<V2G_Message xmlns=\"urn:iso:15118:2:2013:MsgDef\"><Body/></V2G_Message>");
            var (code, _, err) = Run("encode", path);
            Assert.Equal(1, code);
            Assert.Contains("encode error", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
