using System.Security.Cryptography;
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

    [Fact]
    public void Generated_passwords_have_OCPPs_form_and_at_least_128_bits()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var p = StationPasswords.Generate();
            // OCPP 2.0.1 BasicAuthPassword: a passwordString of 16-40 characters; ours only letters, digits, '-' and '_'.
            Assert.InRange(p.Length, StationPassword.MinLength, StationPassword.MaxLength);
            Assert.All(p, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' in {p}"));
            Assert.True(seen.Add(p));
            // OCPP 1.6 AuthorizationKey: 16-20 bytes, at most 40 hex digits; printable, no ':' (RFC 7617).
            var p16 = StationPasswords.Generate16();
            Assert.Equal(20, System.Text.Encoding.UTF8.GetByteCount(p16));
            Assert.All(p16, c => Assert.True(c is > ' ' and <= '~' and not ':' and not '"' and not '\\', $"'{c}'"));
        }
        Assert.True(StationPasswords.GeneratedEntropyBits >= 128, StationPasswords.GeneratedEntropyBits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(StationPasswords.Generated16EntropyBits >= 128, StationPasswords.Generated16EntropyBits.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_keyed_record_names_its_key_and_verifies_only_its_station_and_password_under_that_key()
    {
        var key = new StationPasswordKey(RandomNumberGenerator.GetBytes(32));
        var other = new StationPasswordKey(RandomNumberGenerator.GetBytes(32));
        var record = key.Hash("CS-1", "pw-0123456789abcdef"u8);
        var parts = record.Split('$');
        Assert.Equal(("hmac-sha256", key.Id, 3), (parts[0], parts[1], parts.Length));
        Assert.DoesNotContain("pw-0123456789abcdef", record);
        Assert.True(key.Verify("CS-1", "pw-0123456789abcdef"u8, record));
        Assert.False(key.Verify("CS-1", "pw-0123456789abcdeF"u8, record));
        Assert.False(key.Verify("CS-2", "pw-0123456789abcdef"u8, record));
        // Another server key: another key id, so the record fails closed; relabelled with that id, its MAC is wrong.
        Assert.NotEqual(key.Id, other.Id);
        Assert.False(other.Verify("CS-1", "pw-0123456789abcdef"u8, record));
        Assert.False(other.Verify("CS-1", "pw-0123456789abcdef"u8, string.Join('$', parts[0], other.Id, parts[2])));
        // The same secret gives the same key id on every instance; a short secret is refused.
        var secret = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(new StationPasswordKey(secret).Id, new StationPasswordKey(secret).Id);
        Assert.Throws<ArgumentException>(() => new StationPasswordKey(new byte[16]));
        Assert.False(key.Verify("CS-1", "pw-0123456789abcdef"u8, "hmac-sha256$" + key.Id + "$not-base64"));
        Assert.False(key.Verify("CS-1", "pw-0123456789abcdef"u8, StationPassword.Hash("pw-0123456789abcdef", 1000)));
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
