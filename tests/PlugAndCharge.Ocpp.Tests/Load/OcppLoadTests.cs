using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PlugAndCharge.Ocpp.Tests.Load;

/// <summary>
/// Many ocpp-rpc stations (client/load.js) on loopback against the OCPP endpoint: Authorize with full contract chain
/// validation, and Get15118EVCertificate through the stub contract service, at fixed rates. By default a small smoke
/// run; the measured run of the issue is
/// <c>PNC_OCPP_LOAD_STATIONS=1000 PNC_OCPP_LOAD_SECONDS=10 PNC_OCPP_LOAD_AUTHORIZE_RATE=500 PNC_OCPP_LOAD_EV_RATE=200</c>
/// (report on the test output and in PNC_OCPP_LOAD_REPORT when set).
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class OcppLoadTests(OcppServerFixture server, ITestOutputHelper output)
{
    [Fact]
    public async Task Concurrent_stations_authorize_and_fetch_EV_certificates_at_fixed_rates()
    {
        var stations = NodeLoad.Setting("PNC_OCPP_LOAD_STATIONS", 50);
        var seconds = NodeLoad.Setting("PNC_OCPP_LOAD_SECONDS", 2);
        var authorizeRate = NodeLoad.Setting("PNC_OCPP_LOAD_AUTHORIZE_RATE", 100);
        var evRate = NodeLoad.Setting("PNC_OCPP_LOAD_EV_RATE", 50);

        var ids = new List<string>();
        for (var i = 0; i < stations; i++) ids.Add(await server.RegisterStationAsync(id: $"LOAD-{i:D5}-{Guid.NewGuid():N}"[..24]));
        var authorizations = new List<object>();
        for (var i = 0; i < 10; i++)
        {
            var emaid = OcppServerFixture.NewEmaid();
            server.Contracts.Set(emaid, ContractVerdict.Active);
            authorizations.Add(new { idToken = new { idToken = emaid, type = "eMAID" }, certificate = OcppServerFixture.ChainPem(await server.IssueContractAsync(emaid)) });
        }
        var exiRequest = Convert.ToBase64String(new byte[1200]);
        var config = new
        {
            endpoint = server.Endpoint, ca = server.ServerCaPem, password = OcppServerFixture.Password, protocol = "ocpp2.0.1", ids, connectConcurrency = 50,
            phases = new object[]
            {
                new { name = "warm-up", method = "Heartbeat", @params = new { }, rate = Math.Min(200, stations), seconds = 1 },
                new { name = "Authorize", method = "Authorize", paramsList = authorizations, rate = authorizeRate, seconds, expect = new[] { new[] { "idTokenInfo.status", "Accepted" }, ["certificateStatus", "Accepted"] } },
                new { name = "Get15118EVCertificate", method = "Get15118EVCertificate", @params = new { iso15118SchemaVersion = "urn:iso:15118:2:2013:MsgDef", action = "Install", exiRequest }, rate = evRate, seconds, expect = new[] { new[] { "status", "Accepted" } } },
            },
        };

        var report = await NodeLoad.RunAsync(config, TimeSpan.FromSeconds(120 + 3 * seconds + stations / 10), output);
        NodeLoad.AssertClean(report, stations);
    }
}
