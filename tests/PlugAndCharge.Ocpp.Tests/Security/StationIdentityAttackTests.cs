using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Security;

/// <summary>
/// Issue 21 finding 2 and part of 8, attacked through OCPP-J with the npm ocpp-rpc client: a station gets certificates
/// only for names its CPO owns (its registered identity or serial number, the CPO's organization, EVSE IDs of the
/// CPO's operator IDs), and SignCertificate / Get15118EVCertificate Update are rate-limited per station.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class StationIdentityAttackTests(OcppServerFixture server)
{
    private static object Call(string method, object payload) => new { call = method, @params = payload };

    private static void AssertRejected(StationRun run, int step, string reasonCode = "InvalidCSR")
    {
        var answer = run.Ok(step);
        Assert.True(answer.GetProperty("status").GetString() == "Rejected", $"step {step}: {answer}");
        Assert.Equal(reasonCode, answer.GetProperty("statusInfo").GetProperty("reasonCode").GetString());
    }

    [Fact]
    public async Task A_station_that_boots_with_a_victims_EMAID_as_its_serial_gets_no_certificate_with_that_CN()
    {
        var emaid = OcppServerFixture.NewEmaid();
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "M", vendorName = "V", serialNumber = emaid } }),
            Call("SignCertificate", new { csr = StationCsrs.Create(emaid, OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            // Without certificateType (one certificate for both uses) the same name is refused as well.
            Call("SignCertificate", new { csr = StationCsrs.Create(emaid, OcppServerFixture.Organization) }),
            new { waitFor = "CertificateSigned", timeoutMs = 2000 },
        ]));

        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        AssertRejected(run, 1);
        AssertRejected(run, 2);
        Assert.Empty(run.Received("CertificateSigned"));
        Assert.Null(server.Delivery.LastOutcome(id));
    }

    [Fact]
    public async Task The_serial_number_the_CPO_registered_still_names_the_station_certificate()
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..10];
        await server.RegisterStationAsync(id: id, serial: "SN-" + id[3..]);
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            // The station announces another serial: informational only.
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "M", vendorName = "V", serialNumber = "SN-OTHER" } }),
            Call("SignCertificate", new { csr = StationCsrs.Create("SN-OTHER", OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = StationCsrs.Create("SN-" + id[3..], OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            new { waitFor = "CertificateSigned" },
        ]));

        AssertRejected(run, 1);
        Assert.Equal("Accepted", run.Ok(2).GetProperty("status").GetString());
        var signed = Assert.Single(run.Received("CertificateSigned"));
        Assert.Contains("CN=SN-" + id[3..], Pki.Validation.CertificateReader.ReadCertificates(
            System.Text.Encoding.ASCII.GetBytes(signed.GetProperty("certificateChain").GetString()!))[0].SubjectDN.ToString());
    }

    [Fact]
    public async Task A_CSR_with_the_organization_of_another_CPO_is_rejected()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = StationCsrs.Create(id, OcppServerFixture.OtherOrganization), certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = StationCsrs.Create("DE*PNC*E0001*1", OcppServerFixture.OtherOrganization, "CPO"), certificateType = "V2GCertificate" }),
            Call("SignCertificate", new { csr = StationCsrs.Create(id, OcppServerFixture.OtherOrganization) }),
            new { sleepMs = 500 },
        ]));

        for (var i = 0; i < 3; i++) AssertRejected(run, i);
        Assert.Empty(run.Received("CertificateSigned"));
    }

    [Fact]
    public async Task A_V2G_certificate_for_an_EVSE_ID_of_another_CPOs_operator_ID_is_rejected()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            // NL*OTH is the other CPO's operator ID; FR*ZZZ belongs to nobody.
            Call("SignCertificate", new { csr = StationCsrs.Create("NL*OTH*E0001*1", OcppServerFixture.Organization, "CPO"), certificateType = "V2GCertificate" }),
            Call("SignCertificate", new { csr = StationCsrs.Create("FRZZZE0001", OcppServerFixture.Organization, "CPO"), certificateType = "V2GCertificate" }),
            Call("SignCertificate", new { csr = StationCsrs.Create("NL*OTH*E0002*1", OcppServerFixture.Organization, "CPO") }),
            new { sleepMs = 500 },
        ]));

        for (var i = 0; i < 3; i++) AssertRejected(run, i);
        Assert.Empty(run.Received("CertificateSigned"));
    }

    [Fact]
    public async Task A_burst_of_SignCertificate_is_throttled_per_station()
    {
        const int calls = 10;
        var id = await server.RegisterStationAsync();
        var steps = new List<object>();
        for (var i = 0; i < calls; i++)
            steps.Add(Call("SignCertificate", new { csr = StationCsrs.Create(id, OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }));
        steps.Add(new { waitFor = "CertificateSigned", count = calls, timeoutMs = 8000 });
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [.. steps]));

        var statuses = Enumerable.Range(0, calls).Select(i => run.Ok(i).GetProperty("status").GetString()).ToList();
        var accepted = statuses.Count(s => s == "Accepted");
        Assert.True(accepted < calls, "every SignCertificate of the burst was accepted: " + string.Join(",", statuses));
        Assert.Equal(server.Options.SignCertificatesPerStation.Permits, accepted);
        // Accepted ones first, then refusals in OCPP form, and only the accepted ones were issued.
        Assert.All(statuses.Skip(accepted), (_, i) => AssertRejected(run, accepted + i, "RateLimitExceeded"));
        Assert.Equal(accepted, run.Received("CertificateSigned").Count);
    }

    [Fact]
    public async Task A_burst_of_Get15118EVCertificate_Update_is_throttled_per_station_before_contract_provisioning()
    {
        const int calls = 8;
        var id = await server.RegisterStationAsync();
        var exi = Convert.ToBase64String([0x80, 0x98, 0x02, 0x10, 0x50, 0x90, 0x8c, 0x0c]);
        var steps = Enumerable.Range(0, calls)
            .Select(_ => Call("Get15118EVCertificate", new { iso15118SchemaVersion = "urn:iso:15118:2:2013:MsgDef", action = "Update", exiRequest = exi }))
            .ToArray();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", steps));

        var statuses = Enumerable.Range(0, calls).Select(i => run.Ok(i).GetProperty("status").GetString()).ToList();
        var accepted = statuses.Count(s => s == "Accepted");
        Assert.True(accepted < calls, "every Update of the burst reached contract provisioning: " + string.Join(",", statuses));
        Assert.Equal(server.Options.EvCertificateUpdatesPerStation.Permits, accepted);
        for (var i = accepted; i < calls; i++)
        {
            Assert.Equal("Failed", statuses[i]);
            Assert.Equal("RateLimitExceeded", run.Ok(i).GetProperty("statusInfo").GetProperty("reasonCode").GetString());
        }
        Assert.Equal(accepted, server.EvCertificates.Requests.Count(r => r.StationId == id));
    }
}
