using System.Text.Json;
using PlugAndCharge.Ocpp.EvCertificates;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>
/// Get15118EVCertificate through the stub contract provisioning service (the real installation service plugs into
/// <see cref="IEvCertificateService"/> when it lands).
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class EvCertificateInteropTests(OcppServerFixture server)
{
    private const string Iso2 = "urn:iso:15118:2:2013:MsgDef";
    private const string Iso20 = "urn:iso:std:iso:15118:-20:CommonMessages";
    private static readonly string ExiRequest = Convert.ToBase64String([0x80, 0x98, 0x02, 0x10, 0x50, 0x90, 0x8c, 0x0c]);

    private static object Get(string schema, string action, object? extra = null) => new
    {
        call = "Get15118EVCertificate",
        @params = extra ?? new { iso15118SchemaVersion = schema, action, exiRequest = ExiRequest },
    };

    [Fact]
    public async Task Install_and_update_are_handed_to_contract_provisioning_and_long_answers_pass()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [Get(Iso2, "Install"), Get(Iso20, "Update")]));

        var install = run.Ok(0);
        Assert.Equal("Accepted", install.GetProperty("status").GetString());
        // Longer than 2.0.1's 5600 characters: the station needs OCPPCommCtrlr.FieldLength raised (README).
        Assert.True(install.GetProperty("exiResponse").GetString()!.Length > 5600);
        Assert.Equal("Accepted", run.Ok(1).GetProperty("status").GetString());
        var asked = server.EvCertificates.Requests.Where(r => r.StationId == id).ToList();
        Assert.Equal([(Iso2, EvCertificateAction.Install), (Iso20, EvCertificateAction.Update)], asked.Select(r => (r.Iso15118SchemaVersion, r.Action)));
        Assert.All(asked, r => Assert.Equal(ExiRequest, r.ExiRequest));
        Assert.All(asked, r => Assert.Equal("cpo-test", r.CpoId));
    }

    [Fact]
    public async Task A_failure_still_carries_an_exi_response()
    {
        var id = await server.RegisterStationAsync();
        server.EvCertificates.Fail = true;
        try
        {
            var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [Get(Iso2, "Install")]));
            var result = run.Ok(0);
            Assert.Equal("Failed", result.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(result.GetProperty("exiResponse").GetString()));
            Assert.Equal("NoContract", result.GetProperty("statusInfo").GetProperty("reasonCode").GetString());
        }
        finally
        {
            server.EvCertificates.Fail = false;
        }
    }

    [Fact]
    public async Task A_slow_contract_service_is_answered_Failed_within_the_budget()
    {
        var id = await server.RegisterStationAsync();
        var budget = server.Options.EvCertificateTimeout;
        server.Options.EvCertificateTimeout = TimeSpan.FromMilliseconds(300);
        server.EvCertificates.Delay = TimeSpan.FromSeconds(3);
        try
        {
            var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [Get(Iso2, "Install")]));
            var result = run.Ok(0);
            Assert.Equal("Failed", result.GetProperty("status").GetString());
            Assert.True(result.TryGetProperty("exiResponse", out _));
            Assert.True(run.Result(0).GetProperty("ms").GetDouble() < 2000);
        }
        finally
        {
            server.EvCertificates.Delay = TimeSpan.Zero;
            server.Options.EvCertificateTimeout = budget;
        }
    }

    [Fact]
    public async Task OCPP_21_passes_the_contract_selection_and_returns_remaining_contracts()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.1",
        [
            Get(Iso20, "Install", new { iso15118SchemaVersion = Iso20, action = "Install", exiRequest = ExiRequest, maximumContractCertificateChains = 2, prioritizedEMAIDs = new[] { "DEPNCC000000011" } }),
        ]));

        var result = run.Ok(0);
        Assert.Equal("Accepted", result.GetProperty("status").GetString());
        Assert.Equal(0, result.GetProperty("remainingContracts").GetInt32());
        var asked = server.EvCertificates.Requests.Single(r => r.StationId == id);
        Assert.Equal(2, asked.MaximumContractCertificateChains);
        Assert.Equal(["DEPNCC000000011"], asked.PrioritizedEmaids!);
    }

    [Fact]
    public async Task A_16_station_asks_through_DataTransfer()
    {
        var id = await server.RegisterStationAsync();
        var data = JsonSerializer.Serialize(new { iso15118SchemaVersion = Iso2, action = "Install", exiRequest = ExiRequest });
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp1.6",
        [
            new { call = "DataTransfer", @params = new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "Get15118EVCertificate", data } },
        ]));

        var outer = run.Ok(0);
        Assert.Equal("Accepted", outer.GetProperty("status").GetString());
        var inner = JsonDocument.Parse(outer.GetProperty("data").GetString()!).RootElement;
        Assert.Equal("Accepted", inner.GetProperty("status").GetString());
        Assert.True(inner.GetProperty("exiResponse").GetString()!.Length > 5600);
        Assert.False(inner.TryGetProperty("remainingContracts", out _));
    }
}
