using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>ocpp-rpc stations against the OCPP-J endpoint: connection, subprotocols, core messages, refusals, CALLERRORs.</summary>
[Collection(OcppServerCollection.Name)]
public sealed class TransportInteropTests(OcppServerFixture server)
{
    private static object Call(string method, object payload) => new { call = method, @params = payload };

    private static readonly object Boot201 = Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "Wallbox 1", vendorName = "PNC", serialNumber = "SN-0001" } });

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp2.1")]
    public async Task A_2x_station_boots_heartbeats_and_reports_status(string protocol)
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, protocol,
        [
            Boot201,
            Call("Heartbeat", new { }),
            Call("StatusNotification", new { timestamp = "2025-01-01T00:00:00Z", connectorStatus = "Available", evseId = 1, connectorId = 1 }),
        ]));

        Assert.True(run.Connected, run.ToString());
        Assert.Equal(protocol, run.Protocol);
        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        Assert.True(run.Ok(0).GetProperty("interval").GetInt32() > 0);
        Assert.True(DateTimeOffset.TryParse(run.Ok(1).GetProperty("currentTime").GetString(), out _));
        Assert.Empty(run.Ok(2).EnumerateObject());
        Assert.Equal("SN-0001", (await server.Stations.FindAsync(id))!.ReportedSerialNumber);
    }

    [Fact]
    public async Task A_16_station_boots_heartbeats_and_reports_status_in_strict_mode()
    {
        var id = await server.RegisterStationAsync();
        var config = server.StationConfig(id, "ocpp1.6",
        [
            Call("BootNotification", new { chargePointVendor = "PNC", chargePointModel = "Wallbox 1", chargePointSerialNumber = "SN-16" }),
            Call("Heartbeat", new { }),
            Call("StatusNotification", new { connectorId = 1, errorCode = "NoError", status = "Available" }),
        ]);
        // ocpp-rpc's strict mode checks our answers against its own copy of the 1.6 schemas.
        config["strict"] = true;
        var run = await NodeStation.RunAsync(config);

        Assert.Equal("ocpp1.6", run.Protocol);
        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        Assert.True(run.Ok(1).TryGetProperty("currentTime", out _));
        Assert.True(run.Result(2).GetProperty("ok").GetBoolean(), run.ToString());
        Assert.Equal("SN-16", (await server.Stations.FindAsync(id))!.ReportedSerialNumber);
    }

    [Fact]
    public async Task The_newest_offered_subprotocol_is_chosen()
    {
        var id = await server.RegisterStationAsync();
        var config = server.StationConfig(id, "ocpp1.6", []);
        config["protocols"] = new[] { "ocpp1.6", "ocpp2.0.1" };
        var run = await NodeStation.RunAsync(config);
        Assert.Equal("ocpp2.0.1", run.Protocol);
    }

    [Fact]
    public async Task An_unknown_station_is_refused()
    {
        var run = await NodeStation.RunAsync(server.StationConfig("CS-NOT-REGISTERED", "ocpp2.0.1", []));
        Assert.False(run.Connected);
        Assert.Equal(404, run.RefusedWithStatus);
    }

    [Fact]
    public async Task A_wrong_password_is_refused()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [], password: "not-the-password-at-all"));
        Assert.False(run.Connected);
        Assert.Equal(401, run.RefusedWithStatus);
    }

    [Fact]
    public async Task A_missing_password_is_refused()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [], password: null));
        Assert.Equal(401, run.RefusedWithStatus);
    }

    [Fact]
    public async Task An_unsupported_subprotocol_is_refused()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp1.5", []));
        Assert.False(run.Connected);
        Assert.Equal(400, run.RefusedWithStatus);
    }

    [Fact]
    public async Task Schema_violations_answer_the_matching_callerror_in_201()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            // required chargingStation missing
            Call("BootNotification", new { reason = "PowerUp" }),
            // serialNumber must be a string
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "M", vendorName = "V", serialNumber = 12 } }),
            // reason outside its enumeration
            Call("BootNotification", new { reason = "Sunrise", chargingStation = new { model = "M", vendorName = "V" } }),
            // model longer than 20 characters
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = new string('M', 21), vendorName = "V" } }),
            // more than 4 OCSP request data entries
            Call("Authorize", new { idToken = new { idToken = "DEPNCC000000011", type = "eMAID" }, iso15118CertificateHashData = Enumerable.Repeat(new { hashAlgorithm = "SHA256", issuerNameHash = "00", issuerKeyHash = "00", serialNumber = "1", responderURL = "http://x" }, 5) }),
            // an action this service does not handle, and one that does not exist
            Call("MeterValues", new { evseId = 1, meterValue = Array.Empty<object>() }),
            Call("FlyToTheMoon", new { }),
            // a timestamp that is not a date-time
            Call("StatusNotification", new { timestamp = "yesterday", connectorStatus = "Available", evseId = 1, connectorId = 1 }),
        ]));

        Assert.True(run.Connected, run.ToString());
        Assert.Equal("OccurrenceConstraintViolation", run.ErrorCode(0));
        Assert.Equal("TypeConstraintViolation", run.ErrorCode(1));
        Assert.Equal("PropertyConstraintViolation", run.ErrorCode(2));
        Assert.Equal("PropertyConstraintViolation", run.ErrorCode(3));
        Assert.Equal("OccurrenceConstraintViolation", run.ErrorCode(4));
        Assert.Equal("NotSupported", run.ErrorCode(5));
        Assert.Equal("NotImplemented", run.ErrorCode(6));
        Assert.Equal("TypeConstraintViolation", run.ErrorCode(7));
    }

    [Fact]
    public async Task Schema_violations_use_the_16_spelling_of_the_codes()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp1.6",
        [
            Call("BootNotification", new { chargePointVendor = "PNC" }),
            Call("BootNotification", new { chargePointVendor = "PNC", chargePointModel = 7 }),
            Call("StatusNotification", new { connectorId = 1, errorCode = "NoError", status = "Sleeping" }),
            Call("RemoteStartTransaction", new { idTag = "x" }),
        ]));

        Assert.Equal("OccurenceConstraintViolation", run.ErrorCode(0));
        Assert.Equal("TypeConstraintViolation", run.ErrorCode(1));
        Assert.Equal("PropertyConstraintViolation", run.ErrorCode(2));
        Assert.Equal("NotSupported", run.ErrorCode(3));
    }

    [Fact]
    public async Task Malformed_frames_answer_a_framework_error()
    {
        var id = await server.RegisterStationAsync();
        var longId = new string('a', 37);
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            new { raw = "this is not json", expectId = "-1" },
            new { raw = $"[2,\"{longId}\",\"Heartbeat\",{{}}]", expectId = longId },
            new { raw = "[2,\"id-1\",\"Heartbeat\",[]]", expectId = "id-1" },
            new { raw = "[7,\"id-2\",\"Heartbeat\",{}]", expectId = "id-2" },
            new { raw = "[2,\"id-3\",\"Heartbeat\",{}]", expectId = "id-3" },
        ]));

        Assert.Equal("RpcFrameworkError", run.Result(0).GetProperty("frame")[2].GetString());
        Assert.Equal("RpcFrameworkError", run.Result(1).GetProperty("frame")[2].GetString());
        Assert.Equal("FormatViolation", run.Result(2).GetProperty("frame")[2].GetString());
        Assert.Equal("MessageTypeNotSupported", run.Result(3).GetProperty("frame")[2].GetString());
        // The connection survives all of it.
        Assert.Equal(3, run.Result(4).GetProperty("frame")[0].GetInt32());
    }
}
