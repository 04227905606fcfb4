using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// The TLS handshake of the participants' listener: a client certificate names URLs of its own choosing (Authority
/// Information Access). By default TLS builds the client's chain before any application code runs and fetches a missing
/// issuer from that URL, synchronously, on a thread-pool thread: a request to an address the client picked (inside our
/// network too), and under load the threads blocked on those downloads starved the service (the fault suite found it).
/// </summary>
public sealed class TlsHandshakeAttackTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_client_certificate_with_an_AIA_URL_makes_the_service_fetch_nothing_during_the_handshake()
    {
        using var trap = LoopbackTrap.Start(IPAddress.Loopback, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        // A CA nobody trusts (not sent in the handshake) and a leaf whose AIA points at the trap.
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Attacker CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=admin", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        leafRequest.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(
            [$"http://127.0.0.1:{trap.Port}/ocsp"], [$"http://127.0.0.1:{trap.Port}/attacker-ca.crt"]));
        using var issued = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(leafKey);
        using var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        // The attacker's own TLS stack must not fetch either (or the trap would count the client): an offline context
        // sends the leaf alone.
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = SslStreamCertificateContext.Create(leaf, null, offline: true),
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        }) { BaseAddress = new Uri(f.HttpsUrl) };
        for (var i = 0; i < 3; i++) // new connections each time: every handshake would fetch again
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/participants");
            request.Headers.ConnectionClose = true;
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        await Task.Delay(500); // a fetch that was started would have connected by now
        Assert.Equal(0, trap.Connections);
    }
}
