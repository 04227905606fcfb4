using System.Text.Json;
using PlugAndCharge.Ocpp.Transport;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Units;

/// <summary>
/// The transport validates a CALL from the element it parsed (no second parse of the text): the verdict, and the
/// CALLERROR code it maps to, must be the text path's for every kind of value a station can send.
/// </summary>
public sealed class SchemaValidationTests
{
    private static readonly string Chain = string.Concat(Enumerable.Range(0, 3).Select(_ =>
        "-----BEGIN CERTIFICATE-----\n" + Convert.ToBase64String(new byte[620]) + "\n-----END CERTIFICATE-----\n"));

    public static TheoryData<OcppVersion, string, string> Payloads() => new()
    {
        { OcppVersion.V201, "Authorize", JsonSerializer.Serialize(new { idToken = new { idToken = "DE8ACC12345678J", type = "eMAID" }, certificate = Chain }) },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":"DE8ACC12345678J"}}""" },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":"DE8ACC12345678J","type":"NotAType"}}""" },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":42,"type":"eMAID"}}""" },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":"DE8ACC12345678J","type":"eMAID"},"certificate":"x","unknown":true}""" },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":"DE8ACC12345678J","type":"eMAID","idToken":"again"}}""" },
        { OcppVersion.V201, "Authorize", """{"idToken":{"idToken":"DE8ACC12345678J","type":"eMAID"},"iso15118CertificateHashData":[]}""" },
        { OcppVersion.V201, "BootNotification", """{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}""" },
        { OcppVersion.V201, "Heartbeat", """{}""" },
        { OcppVersion.V201, "Heartbeat", """[]""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"2026-12-06T10:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"yesterday","connectorStatus":"Available","evseId":1,"connectorId":1}""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"2026-12-06T10:00:00Z","connectorStatus":"Available","evseId":1.0,"connectorId":1}""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"2026-12-06T10:00:00Z","connectorStatus":"Available","evseId":1e2,"connectorId":-1}""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"2026-12-06T10:00:00Z","connectorStatus":"Available","evseId":123456789012345678901234567890,"connectorId":1}""" },
        { OcppVersion.V201, "StatusNotification", """{"timestamp":"2026-12-06T10:00:00Z","connectorStatus":"Available","evseId":null,"connectorId":true}""" },
        { OcppVersion.V16, "Authorize", """{"idTag":"0123456789012345678901"}""" },
        { OcppVersion.V21, "Heartbeat", """{"customData":{"vendorId":"v","x":[1,2.5,"s",null,{"y":false}]}}""" },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void The_parsed_element_gets_the_verdict_of_its_text(OcppVersion version, string action, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var fromText = OcppSchemaCatalog.Official.ValidateRequest(version, action, json);
        var fromElement = OcppSchemaCatalog.Official.ValidateRequest(version, action, doc.RootElement);
        Assert.Equal(fromText, fromElement);
    }

    [Theory]
    [InlineData("""{"status":"Accepted"}""")]
    [InlineData("""{"status":"Sideways"}""")]
    [InlineData("""{"status":1}""")]
    [InlineData("""{}""")]
    public void A_parsed_CALLRESULT_gets_the_verdict_of_its_text(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(OcppSchemaCatalog.Official.ValidateResponse(OcppVersion.V201, "InstallCertificate", json),
            OcppSchemaCatalog.Official.ValidateResponse(OcppVersion.V201, "InstallCertificate", doc.RootElement));
    }

    [Fact]
    public void The_cases_above_include_conforming_and_broken_payloads()
    {
        var verdicts = Payloads().Select(row => OcppSchemaCatalog.Official.ValidateRequest((OcppVersion)row[0], (string)row[1], (string)row[2])).ToList();
        Assert.Contains(verdicts, v => v == null);
        Assert.Contains(verdicts, v => v?.Code == OcppErrorCode.TypeConstraintViolation);
        Assert.Contains(verdicts, v => v?.Code == OcppErrorCode.PropertyConstraintViolation);
        Assert.Contains(verdicts, v => v?.Code == OcppErrorCode.OccurrenceConstraintViolation);
    }

    [Fact]
    public void Formats_are_checked_a_date_time_that_is_not_one_is_a_type_violation()
    {
        const string json = """{"timestamp":"yesterday","connectorStatus":"Available","evseId":1,"connectorId":1}""";
        using var doc = JsonDocument.Parse(json);
        var violation = OcppSchemaCatalog.Official.ValidateRequest(OcppVersion.V201, "StatusNotification", doc.RootElement);
        Assert.Equal(new SchemaViolation(OcppErrorCode.TypeConstraintViolation, "DateTimeExpected at timestamp"), violation);
    }
}
