using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Validation;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>SignCertificate then CertificateSigned, with the chain checked by openssl as an independent verifier.</summary>
[Collection(OcppServerCollection.Name)]
public sealed class SignCertificateInteropTests(OcppServerFixture server)
{
    private static string Csr(string commonName, string organization, string? domainComponent = null, bool rsa = false) =>
        StationCsrs.Create(commonName, organization, domainComponent, rsa);

    private static object Call(string method, object payload) => new { call = method, @params = payload };

    /// <summary>openssl verify of a PEM chain (leaf first) against our V2G root.</summary>
    private async Task<string> OpensslVerifyAsync(string chainPem)
    {
        var certs = CertificateReader.ReadCertificates(System.Text.Encoding.ASCII.GetBytes(chainPem));
        var dir = Directory.CreateTempSubdirectory("pnc-verify").FullName;
        try
        {
            string Pem(IEnumerable<Org.BouncyCastle.X509.X509Certificate> cs) => string.Concat(cs.Select(c => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n"));
            await File.WriteAllTextAsync(Path.Combine(dir, "root.pem"), Pem([await server.CaCertificateAsync("iso2-v2g-root")]));
            await File.WriteAllTextAsync(Path.Combine(dir, "sub.pem"), Pem(certs.Skip(1)));
            await File.WriteAllTextAsync(Path.Combine(dir, "leaf.pem"), Pem(certs.Take(1)));
            var psi = new ProcessStartInfo("openssl", ["verify", "-CAfile", "root.pem", "-untrusted", "sub.pem", "leaf.pem"]) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return output.Trim();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Subject(string chainPem, int index) => CertificateReader.ReadCertificates(System.Text.Encoding.ASCII.GetBytes(chainPem))[index].SubjectDN.ToString();

    [Fact]
    public async Task A_charging_station_certificate_is_signed_and_delivered_leaf_first()
    {
        // The CN is the serial number the CPO registered for the station (the one it announces at boot is only reported).
        var id = "CS-" + Guid.NewGuid().ToString("N")[..10];
        await server.RegisterStationAsync(id: id, serial: "SN-" + id);
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "M", vendorName = "V", serialNumber = "SN-" + id } }),
            Call("SignCertificate", new { csr = Csr("SN-" + id, OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            new { waitFor = "CertificateSigned" },
        ]));

        Assert.Equal("Accepted", run.Ok(1).GetProperty("status").GetString());
        var signed = Assert.Single(run.Received("CertificateSigned"));
        Assert.Equal("ChargingStationCertificate", signed.GetProperty("certificateType").GetString());
        var chain = signed.GetProperty("certificateChain").GetString()!;
        Assert.Contains("CN=SN-" + id, Subject(chain, 0));
        Assert.Contains("CPO Sub-CA 2", Subject(chain, 1));
        Assert.Contains("CPO Sub-CA 1", Subject(chain, 2));
        Assert.Equal("leaf.pem: OK", await OpensslVerifyAsync(chain));
    }

    [Fact]
    public async Task A_V2G_certificate_is_signed_with_the_SECC_profile()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = Csr("DE*PNC*E0001*1", OcppServerFixture.Organization, "CPO"), certificateType = "V2GCertificate" }),
            new { waitFor = "CertificateSigned" },
        ]));

        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        var signed = Assert.Single(run.Received("CertificateSigned"));
        Assert.Equal("V2GCertificate", signed.GetProperty("certificateType").GetString());
        var chain = signed.GetProperty("certificateChain").GetString()!;
        Assert.Contains("CN=DE*PNC*E0001*1", Subject(chain, 0));
        Assert.Equal("leaf.pem: OK", await OpensslVerifyAsync(chain));
    }

    [Fact]
    public async Task CertificateSigned_is_sent_again_when_the_station_does_not_answer()
    {
        var id = await server.RegisterStationAsync();
        var config = server.StationConfig(id, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = Csr(id, OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            new { waitFor = "CertificateSigned", count = 2, timeoutMs = 15000 },
            // Stay connected a moment: the station's reply to the second attempt must leave before it closes.
            new { sleepMs = 500 },
        ]);
        config["replies"] = new Dictionary<string, object> { ["CertificateSigned"] = new { ignore = 1, reply = new { status = "Accepted" } } };
        var run = await NodeStation.RunAsync(config);

        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        var deliveries = run.Received("CertificateSigned");
        Assert.Equal(2, deliveries.Count);
        Assert.Equal(deliveries[0].GetProperty("certificateChain").GetString(), deliveries[1].GetProperty("certificateChain").GetString());
        // The server records the answer just after it arrives: give it a moment.
        var outcome = server.Delivery.LastOutcome(id);
        for (var i = 0; i < 50 && outcome?.StationStatus != "Accepted"; i++)
        {
            await Task.Delay(100);
            outcome = server.Delivery.LastOutcome(id);
        }
        Assert.Equal("Accepted", outcome?.StationStatus);
        Assert.Equal(2, outcome?.Attempts);
    }

    [Fact]
    public async Task CSRs_that_break_the_rules_are_rejected()
    {
        var id = await server.RegisterStationAsync();
        var good = Csr(id, OcppServerFixture.Organization);
        var tampered = TamperSignature(good);
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = Csr(id, "Some Other CPO"), certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = Csr("CS-ANOTHER-STATION", OcppServerFixture.Organization), certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = tampered, certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = Csr(id, OcppServerFixture.Organization, rsa: true), certificateType = "ChargingStationCertificate" }),
            Call("SignCertificate", new { csr = Csr("NOT-AN-EVSE-ID", OcppServerFixture.Organization, "CPO"), certificateType = "V2GCertificate" }),
            Call("SignCertificate", new { csr = "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----", certificateType = "V2GCertificate" }),
            new { sleepMs = 500 },
        ]));

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("Rejected", run.Ok(i).GetProperty("status").GetString());
            Assert.Equal("InvalidCSR", run.Ok(i).GetProperty("statusInfo").GetProperty("reasonCode").GetString());
        }
        Assert.Empty(run.Received("CertificateSigned"));
    }

    [Fact]
    public async Task A_16_station_signs_natively_and_through_DataTransfer()
    {
        var id = await server.RegisterStationAsync();
        var pncData = JsonSerializer.Serialize(new { csr = Csr("DE*PNC*E0002*1", OcppServerFixture.Organization, "CPO"), certificateType = "V2GCertificate" });
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp1.6",
        [
            Call("SignCertificate", new { csr = Csr(id, OcppServerFixture.Organization) }),
            new { waitFor = "CertificateSigned" },
            Call("DataTransfer", new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "SignCertificate", data = pncData }),
            new { waitFor = "pnc:CertificateSigned" },
        ]));

        Assert.Equal("Accepted", run.Ok(0).GetProperty("status").GetString());
        var native = Assert.Single(run.Received("CertificateSigned"));
        Assert.Contains("CN=" + id, Subject(native.GetProperty("certificateChain").GetString()!, 0));
        Assert.False(native.TryGetProperty("certificateType", out _));

        // results hold calls only (waitFor steps add none): the DataTransfer is result 1
        Assert.Equal("Accepted", run.Ok(1).GetProperty("status").GetString());
        Assert.Equal("Accepted", JsonDocument.Parse(run.Ok(1).GetProperty("data").GetString()!).RootElement.GetProperty("status").GetString());
        var wrapped = Assert.Single(run.Received("pnc:CertificateSigned"));
        Assert.Equal("V2GCertificate", wrapped.GetProperty("certificateType").GetString());
        Assert.Equal("leaf.pem: OK", await OpensslVerifyAsync(wrapped.GetProperty("certificateChain").GetString()!));
    }

    private static string TamperSignature(string pem)
    {
        var der = PemEncoding.Find(pem) is var f ? Convert.FromBase64String(pem[f.Base64Data]) : [];
        der[^5] ^= 0x01; // inside the signature value
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }
}
