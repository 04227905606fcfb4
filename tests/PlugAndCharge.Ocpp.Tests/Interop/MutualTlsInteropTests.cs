using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.X509;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>Security profile 3: ocpp-rpc stations with client certificates from our CPO sub-CA.</summary>
[Collection(OcppServerCollection.Name)]
public sealed class MutualTlsInteropTests(OcppServerFixture server)
{
    private async Task<(string CertPem, string KeyPem, IssuedCertificate Issued)> StationCertificateAsync(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await server.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "ocpp/charging-station", IssuerId = "iso2-cpo-subca2", PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = DistinguishedNames.Parse($"CN={commonName},O={OcppServerFixture.Organization}"), Actor = "test",
        });
        return (OcppServerFixture.ChainPem(issued), key.ExportPkcs8PrivateKeyPem(), issued);
    }

    /// <summary>A certificate for the station, registered to it by its CPO (only bound certificates log a station in).</summary>
    private async Task<(string CertPem, string KeyPem, IssuedCertificate Issued)> BoundCertificateAsync(string stationId, string? commonName = null)
    {
        var cert = await StationCertificateAsync(commonName ?? stationId);
        await server.BindClientCertificateAsync(stationId, cert.Issued);
        return cert;
    }

    private Dictionary<string, object?> Config(string id, (string CertPem, string KeyPem, IssuedCertificate _) cert)
    {
        var config = server.StationConfig(id, "ocpp2.0.1", [new { call = "Heartbeat", @params = new { } }], password: null);
        config["cert"] = cert.CertPem;
        config["key"] = cert.KeyPem;
        return config;
    }

    [Fact]
    public async Task A_station_with_its_own_certificate_connects()
    {
        var id = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var run = await NodeStation.RunAsync(Config(id, await BoundCertificateAsync(id)));
        Assert.True(run.Connected, run.ToString());
        Assert.True(run.Ok(0).TryGetProperty("currentTime", out _));
    }

    [Fact]
    public async Task A_certificate_naming_another_station_is_refused()
    {
        var id = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var run = await NodeStation.RunAsync(Config(id, await BoundCertificateAsync(id, "CS-SOMEONE-ELSE")));
        Assert.False(run.Connected);
        Assert.Equal(403, run.RefusedWithStatus);
    }

    [Fact]
    public async Task No_client_certificate_is_refused()
    {
        var id = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [], password: OcppServerFixture.Password));
        Assert.Equal(401, run.RefusedWithStatus);
    }

    [Fact]
    public async Task A_revoked_station_certificate_is_refused()
    {
        var id = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var cert = await BoundCertificateAsync(id);
        await server.Ca.Revoker.RevokeAsync("iso2-cpo-subca2", cert.Issued.Record.Serial, RevocationReason.KeyCompromise, "test");
        var run = await NodeStation.RunAsync(Config(id, cert));
        Assert.Equal(403, run.RefusedWithStatus);
    }

    [Fact]
    public async Task A_self_made_certificate_with_the_right_name_is_refused()
    {
        var id = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={id},O={OcppServerFixture.Organization}", key, HashAlgorithmName.SHA256);
        using var self = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10));
        var run = await NodeStation.RunAsync(Config(id, (self.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), null!)));
        Assert.Equal(403, run.RefusedWithStatus);
    }
}
