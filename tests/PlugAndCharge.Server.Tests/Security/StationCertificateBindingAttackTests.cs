using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Binding a further login certificate to a profile 3 station over the real HTTPS API (participant client
/// certificates): only the station's own CPO binds, and only a certificate named for that station with EKU clientAuth.
/// </summary>
public sealed class StationCertificateBindingAttackTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static int _cpos;

    private async Task<HttpClient> NewCpoAsync()
    {
        var n = Interlocked.Increment(ref _cpos);
        var id = $"cpo-bind{n}";
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/v1/participants", new { id, role = "Cpo", identities = new[] { $"DEB{n:00}" }, organization = $"Bind CPO {n}" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return f.Client(await f.IssueClientCertificateAsync(id));
    }

    /// <summary>A self-made client certificate as a CPO's own CA would hand it to its station.</summary>
    private static (string Pem, string Sha256) ClientCertificate(string cn, bool clientAuth = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}, O=Bind CPO", key, HashAlgorithmName.SHA256);
        var usages = new OidCollection { new Oid(clientAuth ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1") };
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (certificate.ExportCertificatePem(), Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));
    }

    [Fact]
    public async Task Only_the_stations_CPO_binds_a_login_certificate_and_only_one_named_for_the_station()
    {
        using var owner = await NewCpoAsync();
        using var other = await NewCpoAsync();
        var stationId = "CS-" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/v1/ocpp/stations", new { stationId, securityProfile = 3 })).StatusCode);
        var store = f.App.Services.GetRequiredService<IStationStore>();
        var url = $"/v1/ocpp/stations/{stationId}/client-certificates";

        // Another CPO cannot give itself a way into this station.
        var foreign = ClientCertificate(stationId);
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync(url, new { certificate = foreign.Pem })).StatusCode);
        Assert.Null(await store.FindClientCertificateAsync(stationId, foreign.Sha256));

        // The owner cannot bind a certificate named for another station, nor a server certificate.
        var misnamed = ClientCertificate("CS-SOMEONE-ELSE");
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync(url, new { certificate = misnamed.Pem })).StatusCode);
        var serverOnly = ClientCertificate(stationId, clientAuth: false);
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.PostAsJsonAsync(url, new { certificate = serverOnly.Pem })).StatusCode);
        Assert.Null(await store.FindClientCertificateAsync(stationId, misnamed.Sha256));
        Assert.Null(await store.FindClientCertificateAsync(stationId, serverOnly.Sha256));

        // Its own renewal is bound, under the station's CPO.
        var renewal = ClientCertificate(stationId);
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync(url, new { certificate = renewal.Pem })).StatusCode);
        Assert.NotNull(await store.FindClientCertificateAsync(stationId, renewal.Sha256));
    }
}
