using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Npgsql;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Participants;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// The real host on loopback over a fresh PostgreSQL database: the ISO 15118-2 development PKI, the participant CA, an
/// HTTPS certificate it issued, and an admin participant with a client certificate.
/// </summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    private PostgresDatabase? _database;
    private PostgresPkiStore _store = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;
    public CertificateAuthorityServices Ca { get; private set; } = null!;
    public ParticipantDirectory Directory { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public string HttpUrl { get; private set; } = "";
    public string HttpsUrl { get; private set; } = "";
    public X509Certificate2 ParticipantCa { get; private set; } = null!;
    public X509Certificate2 AdminCertificate { get; private set; } = null!;
    public string WorkDir { get; } = OpenSsl.TempDir();

    /// <summary>Internal networks participant-supplied URLs may reach: loopback, where the tests' receivers and the sample eMSP run.</summary>
    public IReadOnlyList<string> OutboundAllowed { get; init; } = ["127.0.0.0/8", "::1"];

    /// <summary>A database of the test's own (e.g. a primary with a standby); by default a fresh one on PNC_TEST_DATABASE.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The PostgreSQL cluster to create the fresh database on; the shared test cluster unless given (a fault test starts its own).</summary>
    public string? AdminConnectionString { get; init; }

    public async Task InitializeAsync()
    {
        if (ConnectionString == null) _database = await PostgresDatabase.CreateAsync(AdminConnectionString);
        (Db, _store) = await PkiDatabase.OpenAsync(ConnectionString ?? _database!.ConnectionString);
        var httpPort = FreePort();
        HttpUrl = $"http://127.0.0.1:{httpPort}";
        HttpsUrl = $"https://127.0.0.1:{FreePort()}";
        Ca = new CertificateAuthorityServices(_store, _store, _store, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, new PkiOptions { PublicBaseUrl = HttpUrl });
        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "test");
        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso20", "memory", KeyAlgorithm.EcP521, "test");
        Directory = ParticipantDirectory.Over(new PostgresParticipantStore(Db), Ca, TimeProvider.System);
        var participantCa = await Directory.EnsureParticipantCaAsync("memory", "test");
        ParticipantCa = X509CertificateLoader.LoadCertificate(participantCa.CertificateDer);
        var tls = await Directory.IssueTlsServerCertificateAsync(["localhost", "127.0.0.1"], "test");
        await Directory.RegisterAsync("admin", "Hub operator", ParticipantRole.Admin, [], null, "test");
        AdminCertificate = await IssueClientCertificateAsync("admin");
        var cps = await PlugAndCharge.Contracts.Signing.CpsSigner.IssueAsync(Ca, "iso2-cps-subca2", $"memory:cps-leaf-{Guid.NewGuid():N}", "CN=CPS Leaf,O=PlugAndCharge Test,DC=CPS", "test");
        var cps20 = await PlugAndCharge.Contracts.Signing.CpsSigner.IssueAsync(Ca, "iso20-cps-subca2", $"memory:cps-leaf-20-{Guid.NewGuid():N}", "CN=CPS Leaf 20,O=PlugAndCharge Test,DC=CPS", "test");
        HostOptions = new ServiceHostOptions
        {
            HttpUrls = [HttpUrl], HttpsUrls = [HttpsUrl], ServerCertificate = tls, TokenSigningKey = RandomNumberGenerator.GetBytes(32),
            ContractKeyEncryptionKey = RandomNumberGenerator.GetBytes(32), StationPasswordKey = RandomNumberGenerator.GetBytes(32),
            CpsSigners = [cps, cps20], OcpiPublicBaseUrl = HttpsUrl + "/ocpi",
            Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(OutboundAllowed),
        };
        App = ServiceHost.Build(HostOptions, Ca, Db);
        await App.StartAsync();
    }

    /// <summary>The configuration of <see cref="App"/>.</summary>
    public ServiceHostOptions HostOptions { get; private set; } = null!;

    /// <summary>
    /// One more instance of the service on the same database with the same configuration (keys, CPS signers), listening on
    /// its own HTTPS port. The caller stops and disposes it.
    /// </summary>
    public async Task<(WebApplication App, string HttpsUrl)> StartInstanceAsync(PlugAndCharge.Storage.Ocpp.StationPresenceOptions? presence = null)
    {
        var httpsUrl = $"https://127.0.0.1:{FreePort()}";
        var o = HostOptions;
        var app = ServiceHost.Build(new ServiceHostOptions
        {
            HttpUrls = [$"http://127.0.0.1:{FreePort()}"], HttpsUrls = [httpsUrl], ServerCertificate = o.ServerCertificate, TokenSigningKey = o.TokenSigningKey,
            ContractKeyEncryptionKey = o.ContractKeyEncryptionKey, StationPasswordKey = o.StationPasswordKey, CpsSigners = o.CpsSigners, OcpiPublicBaseUrl = o.OcpiPublicBaseUrl, Outbound = o.Outbound,
            StationPresence = presence ?? o.StationPresence,
        }, Ca, Db);
        await app.StartAsync();
        return (app, httpsUrl);
    }

    /// <summary><see cref="Client"/> against another instance.</summary>
    public HttpClient Client(X509Certificate2? clientCertificate, string httpsUrl)
    {
        var client = Client(clientCertificate);
        client.BaseAddress = new Uri(httpsUrl);
        return client;
    }

    /// <summary>A client certificate with its private key for a registered participant, issued by the participant CA.</summary>
    public async Task<X509Certificate2> IssueClientCertificateAsync(string participantId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=" + participantId, key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = await Directory.IssueClientCertificateAsync(participantId, csr, "test");
        return WithKey(issued.Certificate.GetEncoded(), key);
    }

    public static X509Certificate2 WithKey(byte[] der, ECDsa key)
    {
        using var cert = X509CertificateLoader.LoadCertificate(der);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>An HTTP client that trusts only the participant CA for the server and presents <paramref name="clientCertificate"/>.</summary>
    public HttpClient Client(X509Certificate2? clientCertificate)
    {
        var client = MutualTlsClient(ParticipantCa, clientCertificate);
        client.BaseAddress = new Uri(HttpsUrl);
        return client;
    }

    /// <summary>An HTTP client that trusts only <paramref name="serverCa"/> for the server and presents <paramref name="clientCertificate"/>.</summary>
    /// <remarks>Its JSON answers are checked against the service's OpenAPI document (<see cref="OpenApi.ConformanceCheckingHandler"/>).</remarks>
    public static HttpClient MutualTlsClient(X509Certificate2 serverCa, X509Certificate2? clientCertificate) => new(new OpenApi.ConformanceCheckingHandler(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = clientCertificate != null ? [clientCertificate] : null,
            LocalCertificateSelectionCallback = clientCertificate != null ? (_, _, _, _, _) => clientCertificate : null,
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                if (cert == null) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(serverCa);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
            },
        },
    }));

    public string WritePem(string name, string pem)
    {
        var path = Path.Combine(WorkDir, name);
        File.WriteAllText(path, pem);
        return path;
    }

    /// <summary>A loopback port free at this moment (the tests' listeners and scripts bind it next).</summary>
    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await _store.DisposeAsync();
        await Db.DisposeAsync();
        if (_database != null) await _database.DisposeAsync();
        System.IO.Directory.Delete(WorkDir, recursive: true);
    }
}
