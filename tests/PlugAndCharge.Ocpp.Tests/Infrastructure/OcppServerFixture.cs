using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.Operator;
using PlugAndCharge.Ocpp.Signing;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;
using PlugAndCharge.Tests;
using Xunit;
using PlugAndCharge.TestSupport.Ocpp;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>A clock the test can move (to issue certificates that are already expired).</summary>
public sealed class ShiftableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

/// <summary>
/// The OCPP service on its own Kestrel (TLS on a loopback port, client certificates allowed) over a development PKI
/// made with <see cref="DevelopmentHierarchy"/> (file keys, so openssl can act as its OCSP responder), in-memory stations
/// and contracts, and a stub contract provisioning service.
/// </summary>
public sealed class OcppServerFixture : IAsyncLifetime
{
    public const string Organization = "PNC Test CPO";
    public const string Passphrase = "ocpp-test-passphrase";
    public const string Password = "station-password-0001";
    /// <summary>The CPO that owns the fixture's stations, its operator ID (EVSE IDs DE*PNC*E...) and organization.</summary>
    public const string CpoId = "cpo-test";
    public const string OperatorId = "DEPNC";
    /// <summary>Another CPO of the hub, with its own operator ID and organization.</summary>
    public const string OtherCpoId = "cpo-other";
    public const string OtherOperatorId = "NLOTH";
    public const string OtherOrganization = "Other CPO BV";

    /// <summary>The secret the keyed station password records of this server are made under.</summary>
    public byte[] StationPasswordSecret { get; } = RandomNumberGenerator.GetBytes(32);
    public StationPasswords Passwords => App.Services.GetRequiredService<StationPasswords>();
    public ShiftableClock CaClock { get; } = new();
    public string KeyDirectory { get; } = Directory.CreateTempSubdirectory("pnc-ocpp-keys").FullName;
    public CertificateAuthorityServices Ca { get; private set; } = null!;
    public InMemoryStationStore Stations { get; } = new();
    public InMemoryParticipants Participants { get; } = new();
    public InMemoryContractAuthorization Contracts { get; } = new();
    public StubEvCertificateService EvCertificates { get; } = new();
    public WebApplication App { get; private set; } = null!;
    public string Endpoint { get; private set; } = "";
    public string ServerCaPem { get; private set; } = "";
    public OcppOptions Options { get; private set; } = null!;
    /// <summary>Where tests point the "own OCSP responder" of a CA id (an openssl responder they start).</summary>
    public Dictionary<string, string> OwnResponders { get; } = [];

    public StationCertificateCommands Commands => App.Services.GetRequiredService<StationCertificateCommands>();
    public ConnectedStations Connected => App.Services.GetRequiredService<ConnectedStations>();
    public CertificateSignedDelivery Delivery => App.Services.GetRequiredService<CertificateSignedDelivery>();

    public async Task InitializeAsync()
    {
        await NodeStation.EnsureInstalledAsync();
        var store = new InMemoryPkiStore(CaClock);
        var keys = new KeyProviderRegistry([new SoftwareKeyProvider(KeyDirectory, () => Passphrase, iterations: 1000)]);
        Ca = new CertificateAuthorityServices(store, store, store, keys, ProfileCatalog.BuiltIn, new PkiOptions { PublicBaseUrl = "http://127.0.0.1:9" }, CaClock);
        // The CAs start 60 days in the past, so a contract can be issued that has already expired.
        CaClock.Offset = TimeSpan.FromDays(-60);
        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, "test");
        CaClock.Offset = TimeSpan.Zero;

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        using var selfSigned = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var serverCert = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), null);
        ServerCaPem = selfSigned.ExportCertificatePem();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
            // The OCPP layer validates station certificates against our roots itself.
            ClientCertificateValidation = (_, _, _) => true,
        })));
        builder.Services.AddPki(Ca);
        builder.Services.AddSingleton<IStationStore>(Stations);
        builder.Services.AddSingleton<Core.Participants.IParticipantStore>(Participants);
        await Participants.CreateAsync(new Core.Participants.Participant
        {
            Id = CpoId, Name = Organization, Organization = Organization, Role = Core.Participants.ParticipantRole.Cpo, Identities = [OperatorId],
        }, "test");
        await Participants.CreateAsync(new Core.Participants.Participant
        {
            Id = OtherCpoId, Name = OtherOrganization, Organization = OtherOrganization, Role = Core.Participants.ParticipantRole.Cpo, Identities = [OtherOperatorId],
        }, "test");
        builder.Services.AddSingleton<IContractAuthorization>(Contracts);
        builder.Services.AddSingleton<Ocpp.EvCertificates.IEvCertificateService>(EvCertificates);
        builder.Services.AddOcpp(o =>
        {
            o.StationPasswordKey = StationPasswordSecret;
            o.CertificateSignedRetryDelay = TimeSpan.FromMilliseconds(300);
            o.CertificateSignedTimeout = TimeSpan.FromSeconds(1);
            o.CertificateSignedAttempts = 4;
            o.ValidateOwnResponses = true;
            // The foreign test responders run on loopback: allow-listed here, refused by the production default.
            o.Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(["127.0.0.0/8"]);
            o.OwnOcspResponderUrl = caId => OwnResponders.GetValueOrDefault(caId, "http://127.0.0.1:9/unreachable");
            // Budgets small enough for the attack tests (Security/) to exhaust, large enough for every honest test.
            o.FailedLoginsPerSource = new RateBudget(5, TimeSpan.FromSeconds(60));
            o.FailedLoginsPerStation = new RateBudget(10, TimeSpan.FromSeconds(60));
            o.SignCertificatesPerStation = new RateBudget(8, TimeSpan.FromHours(1));
            o.EvCertificateUpdatesPerStation = new RateBudget(5, TimeSpan.FromHours(1));
        });
        App = builder.Build();
        App.UseWebSockets();
        App.MapOcppEndpoints();
        await App.StartAsync();
        Options = App.Services.GetRequiredService<OcppOptions>();
        var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Endpoint = address.Replace("https://", "wss://") + "/ocpp";
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Directory.Delete(KeyDirectory, recursive: true);
    }

    /// <summary>Registers a station with a fresh id (profile 2 with <see cref="Password"/> unless said otherwise).</summary>
    public async Task<string> RegisterStationAsync(SecurityProfile profile = SecurityProfile.TlsWithBasicAuth, string? id = null, string? serial = null)
    {
        id ??= "CS-" + Guid.NewGuid().ToString("N")[..10];
        await Stations.SaveAsync(new StationRecord
        {
            StationId = id, CpoId = CpoId, CpoOrganization = Organization, SecurityProfile = profile,
            PasswordHash = profile == SecurityProfile.TlsWithBasicAuth ? StationPassword.Hash(Password, 1000) : null,
            SerialNumber = serial, RegisteredAt = DateTimeOffset.UtcNow,
        });
        return id;
    }

    /// <summary>Registers <paramref name="issued"/> as the client certificate of a security profile 3 station (as its CPO does).</summary>
    public async Task BindClientCertificateAsync(string stationId, IssuedCertificate issued)
    {
        var station = await Stations.FindAsync(stationId) ?? throw new InvalidOperationException($"No station {stationId}.");
        await Stations.AddClientCertificateAsync(new StationClientCertificate
        {
            StationId = stationId, Sha256 = StationClientCertificate.Fingerprint(issued.Certificate.GetEncoded()), CpoId = station.CpoId,
            Origin = StationCertificateOrigin.Registered, NotAfter = issued.Record.NotAfter,
        });
    }

    /// <summary>The station.js configuration for a station of this server.</summary>
    public Dictionary<string, object?> StationConfig(string stationId, string protocol, object[] steps, string? password = Password)
        => new()
        {
            ["endpoint"] = Endpoint, ["identity"] = stationId, ["protocol"] = protocol, ["password"] = password,
            ["ca"] = ServerCaPem, ["strict"] = false, ["steps"] = steps,
        };

    /// <summary>A contract certificate for <paramref name="emaid"/> from the MO Sub-CA 2, with its chain up to (without) the MO root.</summary>
    public async Task<IssuedCertificate> IssueContractAsync(string emaid, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = DistinguishedNames.Parse($"CN={emaid},O=PNC Test MO,DC=MO"), Validity = validity, Actor = "test",
        });
    }

    /// <summary>A contract certificate whose notAfter lies in the past.</summary>
    public async Task<IssuedCertificate> IssueExpiredContractAsync(string emaid)
    {
        CaClock.Offset = TimeSpan.FromDays(-30);
        try { return await IssueContractAsync(emaid, TimeSpan.FromDays(1)); }
        finally { CaClock.Offset = TimeSpan.Zero; }
    }

    public static string NewEmaid() => Emaid.Create("DE", "PNC", "C" + Random.Shared.NextInt64(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture)).Normalized;

    /// <summary>Leaf first, then the sub-CAs (the root stays with the relying party).</summary>
    public static string ChainPem(IssuedCertificate issued) =>
        string.Concat(new[] { issued.Certificate }.Concat(issued.IssuerChain).Where(c => !c.SubjectDN.Equivalent(c.IssuerDN, true))
            .Select(c => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n"));

    public async Task<Org.BouncyCastle.X509.X509Certificate> CaCertificateAsync(string caId) => (await Ca.Authorities.GetAsync(caId)).Certificate;

    /// <summary>The delegated OCSP signer of a CA: its certificate and its key decrypted by openssl (PEM).</summary>
    public async Task<(Org.BouncyCastle.X509.X509Certificate Certificate, string KeyPem)> OcspSignerAsync(string caId)
    {
        var ca = (await Ca.CaStore.GetAsync(caId))!;
        var record = (await Ca.Certificates.GetAsync(caId, ca.OcspSignerSerial!))!;
        var keyFile = Path.Combine(KeyDirectory, KeyUri.Parse(ca.OcspSignerKeyUri!).Body);
        var psi = new System.Diagnostics.ProcessStartInfo("openssl", ["pkey", "-in", keyFile, "-passin", "pass:" + Passphrase]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var pem = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException("openssl pkey failed: " + await p.StandardError.ReadToEndAsync());
        return (Pki.Validation.CertificateReader.ReadCertificate(record.Der!), pem);
    }
}

[CollectionDefinition(Name)]
public sealed class OcppServerCollection : ICollectionFixture<OcppServerFixture>
{
    public const string Name = "ocpp-server";
}
