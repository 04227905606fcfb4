using System.Text.Json;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Operator;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>Operator commands sent to connected ocpp-rpc stations: roots, installed certificate ids, deletion, trigger.</summary>
[Collection(OcppServerCollection.Name)]
public sealed class OperatorCommandInteropTests(OcppServerFixture server)
{
    private static readonly object InstalledIds = new
    {
        status = "Accepted",
        certificateHashDataChain = new[]
        {
            new { certificateType = "V2GRootCertificate", certificateHashData = new { hashAlgorithm = "SHA256", issuerNameHash = new string('a', 64), issuerKeyHash = new string('b', 64), serialNumber = "1f" } },
        },
    };

    private async Task<NodeStation> HoldingStationAsync(string id, string protocol, string? v2gCsr = null)
    {
        var config = server.StationConfig(id, protocol, []);
        config["holdUntilStdinEnds"] = true;
        var prefix = protocol == "ocpp1.6" ? "pnc:" : "";
        config["replies"] = new Dictionary<string, object>
        {
            [prefix + "GetInstalledCertificateIds"] = InstalledIds,
            [prefix + "DeleteCertificate"] = new { status = "Accepted" },
            [prefix + "InstallCertificate"] = new { status = "Accepted" },
            [prefix + "TriggerMessage"] = new { status = "Accepted" },
        };
        if (v2gCsr != null)
        {
            var sign = new { csr = v2gCsr, certificateType = "V2GCertificate" };
            config["onReceive"] = new Dictionary<string, object>
            {
                [prefix + "TriggerMessage"] = protocol == "ocpp1.6"
                    ? new { call = "DataTransfer", @params = new { vendorId = Iso15118Pnc.VendorId, messageId = "SignCertificate", data = JsonSerializer.Serialize(sign) } }
                    : new { call = "SignCertificate", @params = (object)sign },
            };
        }
        var station = await NodeStation.StartAsync(config);
        Assert.NotNull(await server.Connected.WaitForAsync(id, TimeSpan.FromSeconds(15)));
        return station;
    }

    [Theory]
    [InlineData("ocpp2.0.1", "pnc-unused")]
    [InlineData("ocpp1.6", "pnc:")]
    public async Task Root_management_commands_reach_the_station_and_return_its_answers(string protocol, string receivedPrefix)
    {
        var prefix = protocol == "ocpp1.6" ? receivedPrefix : "";
        var id = await server.RegisterStationAsync();
        await using var station = await HoldingStationAsync(id, protocol);
        var rootDer = (await server.CaCertificateAsync("iso2-v2g-root")).GetEncoded();
        var v2gRoot = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", rootDer);

        var install = await server.Commands.InstallCertificateAsync(id, "V2GRootCertificate", v2gRoot);
        var ids = await server.Commands.GetInstalledCertificateIdsAsync(id, ["V2GRootCertificate"]);
        var delete = await server.Commands.DeleteCertificateAsync(id, ids.CertificateHashDataChain![0].CertificateHashData);
        var run = await station.FinishAsync();

        Assert.Equal("Accepted", install.Status);
        Assert.Equal("Accepted", ids.Status);
        Assert.Equal("1f", ids.CertificateHashDataChain[0].CertificateHashData.SerialNumber);
        Assert.Equal("Accepted", delete.Status);
        var installed = Assert.Single(run.Received(prefix + "InstallCertificate"));
        Assert.Equal("V2GRootCertificate", installed.GetProperty("certificateType").GetString());
        Assert.Contains("BEGIN CERTIFICATE", installed.GetProperty("certificate").GetString());
        Assert.Equal("V2GRootCertificate", Assert.Single(run.Received(prefix + "GetInstalledCertificateIds")).GetProperty("certificateType")[0].GetString());
        Assert.Equal("1f", Assert.Single(run.Received(prefix + "DeleteCertificate")).GetProperty("certificateHashData").GetProperty("serialNumber").GetString());
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp1.6")]
    public async Task A_triggered_V2G_certificate_request_ends_in_CertificateSigned(string protocol)
    {
        var id = await server.RegisterStationAsync();
        var prefix = protocol == "ocpp1.6" ? "pnc:" : "";
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var name = new System.Security.Cryptography.X509Certificates.X500DistinguishedNameBuilder();
        name.AddDomainComponent("CPO");
        name.AddOrganizationName(OcppServerFixture.Organization);
        name.AddCommonName("DE*PNC*E0099*1");
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest(name.Build(), key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequestPem();
        await using var station = await HoldingStationAsync(id, protocol, csr);

        var trigger = await server.Commands.TriggerSignV2GCertificateAsync(id);
        Assert.Equal("Accepted", trigger.Status);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (server.Delivery.LastOutcome(id)?.StationStatus == null && waited.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(50);
        var run = await station.FinishAsync();

        Assert.Equal("SignV2GCertificate", Assert.Single(run.Received(prefix + "TriggerMessage")).GetProperty("requestedMessage").GetString());
        var signed = Assert.Single(run.Received(prefix + "CertificateSigned"));
        Assert.Equal("V2GCertificate", signed.GetProperty("certificateType").GetString());
        Assert.Equal("Accepted", server.Delivery.LastOutcome(id)!.StationStatus);
    }

    [Fact]
    public async Task Only_self_signed_roots_can_be_installed_and_only_on_connected_stations()
    {
        var id = await server.RegisterStationAsync();
        var subCaDer = (await server.CaCertificateAsync("iso2-cpo-subca1")).GetEncoded();
        var subCa = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", subCaDer);
        await Assert.ThrowsAsync<StationCommandException>(() => server.Commands.GetInstalledCertificateIdsAsync(id));

        await using var station = await HoldingStationAsync(id, "ocpp2.0.1");
        await Assert.ThrowsAsync<ArgumentException>(() => server.Commands.InstallCertificateAsync(id, "V2GRootCertificate", subCa));
        await Assert.ThrowsAsync<ArgumentException>(() => server.Commands.InstallCertificateAsync(id, "OEMRootCertificate", subCa));
        await station.FinishAsync();
    }
}
