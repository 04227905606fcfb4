using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Units;

public sealed class StationPasswordAndAllowListTests
{
    [Fact]
    public void A_password_record_verifies_only_its_password_and_salts_differ()
    {
        var a = StationPassword.Hash("0123456789abcdef-pw", 1000);
        var b = StationPassword.Hash("0123456789abcdef-pw", 1000);
        Assert.NotEqual(a, b);
        Assert.True(StationPassword.Verify("0123456789abcdef-pw"u8, a));
        Assert.False(StationPassword.Verify("0123456789abcdef-pX"u8, a));
        Assert.False(StationPassword.Verify("0123456789abcdef-pw"u8, "plain-text"));
        Assert.False(StationPassword.Verify("0123456789abcdef-pw"u8, null));
        Assert.Throws<ArgumentException>(() => StationPassword.Hash("short"));
    }

    [Theory]
    [InlineData("http://ocsp.example.com/ocsp", true)]
    [InlineData("HTTP://OCSP.EXAMPLE.COM/ocsp", true)]
    [InlineData("http://ocsp.example.com/ocsp/", true)]
    [InlineData("http://ocsp.example.com/other", false)]
    [InlineData("http://ocsp.example.com/ocsp?x=1", false)]
    [InlineData("http://user@ocsp.example.com/ocsp", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("http://169.254.169.254/latest/meta-data", false)]
    [InlineData("https://pool.example.org/any/path", true)]
    [InlineData("https://pool.example.org.evil.com/", false)]
    [InlineData("", false)]
    public void Only_allow_listed_responders_are_fetched(string url, bool allowed)
    {
        string[] list = ["http://ocsp.example.com/ocsp", "https://pool.example.org/"];
        Assert.Equal(allowed, OcspResponderAllowList.IsAllowed(list, url, out _));
    }

    [Theory]
    [InlineData(new[] { "ocpp1.6" }, OcppVersion.V16)]
    [InlineData(new[] { "ocpp1.6", "ocpp2.0.1" }, OcppVersion.V201)]
    [InlineData(new[] { "ocpp2.0.1", "ocpp2.1" }, OcppVersion.V21)]
    [InlineData(new[] { "OCPP2.0.1" }, OcppVersion.V201)]
    public void The_newest_common_subprotocol_wins(string[] offered, OcppVersion expected) =>
        Assert.Equal(expected, StationConnectionEndpoint.Negotiate(offered));

    [Fact]
    public void No_common_subprotocol_is_no_version() => Assert.Null(StationConnectionEndpoint.Negotiate(["ocpp1.5", "wamp"]));

    [Theory]
    [InlineData(OcppErrorCode.FormatViolation, OcppVersion.V16, "FormationViolation")]
    [InlineData(OcppErrorCode.OccurrenceConstraintViolation, OcppVersion.V16, "OccurenceConstraintViolation")]
    [InlineData(OcppErrorCode.OccurrenceConstraintViolation, OcppVersion.V201, "OccurrenceConstraintViolation")]
    [InlineData(OcppErrorCode.RpcFrameworkError, OcppVersion.V21, "RpcFrameworkError")]
    public void Error_codes_are_spelled_as_each_version_spells_them(OcppErrorCode code, OcppVersion version, string wire) =>
        Assert.Equal(wire, code.ToWire(version));

    [Fact]
    public void Every_embedded_schema_loads_and_validates_a_minimal_heartbeat()
    {
        var schemas = OcppSchemaCatalog.Official;
        foreach (var v in new[] { OcppVersion.V16, OcppVersion.V201, OcppVersion.V21 })
        {
            Assert.Null(schemas.ValidateRequest(v, "Heartbeat", "{}"));
            Assert.Equal(OcppErrorCode.FormatViolation, schemas.ValidateRequest(v, "Heartbeat", "{")!.Code);
        }
        Assert.True(schemas.HasRequest(OcppVersion.V21, "GetCertificateChainStatus"));
        Assert.False(schemas.HasRequest(OcppVersion.V201, "GetCertificateChainStatus"));
    }
}
