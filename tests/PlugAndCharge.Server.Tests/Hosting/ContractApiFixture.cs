using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using PlugAndCharge.TestSupport.Vehicles;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// The real host (ServiceFixture) with the participants of the contract API tests, each with its own mutual-TLS client:
/// two OEMs (WMIs WMA and WMB), two eMSPs (DE8AA and FR9BB) and a CPO. The operator registers the V2G and MO roots;
/// OEM A registers its own OEM root (for WMA) over the API.
/// </summary>
public sealed class ContractApiFixture : IAsyncLifetime
{
    public ContractApiFixture() : this(new ServiceFixture()) { }

    /// <summary>On a host configured otherwise (xunit wants one public constructor, so this one is internal).</summary>
    internal ContractApiFixture(ServiceFixture f) => F = f;

    public ServiceFixture F { get; }
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient OemA { get; private set; } = null!;
    public HttpClient OemB { get; private set; } = null!;
    public HttpClient EmspA { get; private set; } = null!;
    public HttpClient EmspB { get; private set; } = null!;
    public HttpClient Cpo { get; private set; } = null!;
    public Org.BouncyCastle.X509.X509Certificate V2gRoot { get; private set; } = null!;
    public byte[] OemRoot { get; private set; } = [];
    private int _vehicles;

    public async Task InitializeAsync()
    {
        await F.InitializeAsync();
        Admin = F.Client(F.AdminCertificate);
        foreach (var (id, role, identity) in new[] { ("oem-a", "Oem", "WMA"), ("oem-b", "Oem", "WMB"), ("emsp-a", "Emsp", "DE8AA"), ("emsp-b", "Emsp", "FR9BB"), ("cpo-a", "Cpo", "DEC01") })
            (await Admin.PostAsJsonAsync("/v1/participants", new { id, role, identities = new[] { identity } })).EnsureSuccessStatusCode();
        OemA = F.Client(await F.IssueClientCertificateAsync("oem-a"));
        OemB = F.Client(await F.IssueClientCertificateAsync("oem-b"));
        EmspA = F.Client(await F.IssueClientCertificateAsync("emsp-a"));
        EmspB = F.Client(await F.IssueClientCertificateAsync("emsp-b"));
        Cpo = F.Client(await F.IssueClientCertificateAsync("cpo-a"));

        V2gRoot = (await F.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate;
        (await Admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(V2gRoot.GetEncoded()) })).EnsureSuccessStatusCode();
        var mo = (await F.Ca.Authorities.GetAsync("iso2-mo-root")).Certificate.GetEncoded();
        (await Admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(mo), rootType = "MO" })).EnsureSuccessStatusCode();
        OemRoot = (await F.Ca.Authorities.GetAsync("iso2-oem-root")).Certificate.GetEncoded();
    }

    /// <summary>A new car of OEM A (WMI WMA) from the development OEM Sub-CA 2; not yet in the pool.</summary>
    public Task<VehicleSimulator> NewCarAsync(string wmi = "WMA") =>
        VehicleSimulator.CreateAsync(F.Ca, "iso2-oem-subca2", $"{wmi}{Interlocked.Increment(ref _vehicles):D14}", [V2gRoot]);

    /// <summary>OPCP pcp body: the leaf as base64 DER, the sub-CAs as PEM (both are accepted).</summary>
    public static object ProvCertBody(VehicleSimulator car) => new
    {
        vehicleCertificate = Convert.ToBase64String(car.ProvisioningCertificate),
        subCA2Certificate = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", car.ProvisioningSubCas[0]),
        subCA1Certificate = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", car.ProvisioningSubCas[1]),
        xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef",
    };

    public async Task DisposeAsync()
    {
        foreach (var c in new[] { Admin, OemA, OemB, EmspA, EmspB, Cpo }) c?.Dispose();
        await F.DisposeAsync();
    }
}

/// <summary>A loopback HTTP receiver for webhooks: records each POST's body and signature headers.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    public Uri Url { get; }
    public ConcurrentQueue<(string Body, string? Signature, string? HubjectSignature, string? ContentType)> Received { get; } = new();

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/oem-hooks/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                Received.Enqueue((await reader.ReadToEndAsync(), ctx.Request.Headers["payload-signature"], ctx.Request.Headers["X-Hubject-Signature"], ctx.Request.ContentType));
                ctx.Response.StatusCode = 200;
                ctx.Response.Close();
            }
        });
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
