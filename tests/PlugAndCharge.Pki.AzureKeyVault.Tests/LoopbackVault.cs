using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace PlugAndCharge.Pki.AzureKeyVault.Tests;

/// <summary>
/// A loopback HTTPS server speaking the Key Vault keys REST API (api-version 7.4) with keys in memory: get, create,
/// sign; the bearer challenge for an unknown tenant, injected throttling (429 + Retry-After) and transient 5xx,
/// and 404 for a missing key. Its TLS certificate (for <see cref="Host"/>) is issued by a root made here, which only
/// the transport from <see cref="Transport"/> trusts; that transport also routes the vault host name to loopback.
/// </summary>
public sealed class LoopbackVault : IAsyncLifetime
{
    public const string Host = "pnc-test.vault.azure.net";
    public const string Tenant = "pnc-test-tenant";
    public const string Resource = "https://vault.azure.net";

    private WebApplication? _app;
    private X509Certificate2 _root = null!;
    private readonly ConcurrentDictionary<string, List<(string Version, ECDsa Key, string Curve)>> _keys = new();
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _faults = new();
    private int _port;
    private int _challenges, _throttled, _failed;
    private readonly ConcurrentQueue<string> _requests = new();

    public Uri VaultUri => new($"https://{Host}");
    /// <summary>The resource the challenge names (a test may make it foreign).</summary>
    public string ChallengeResource { get; set; } = Resource;
    public int Challenges => _challenges;
    public int Throttled => _throttled;
    public int TransientFailures => _failed;
    public IReadOnlyList<string> Requests => [.. _requests];

    public void Enqueue(int status, string? retryAfter = null) => _faults.Enqueue((status, retryAfter));
    public void ClearFaults() { while (_faults.TryDequeue(out _)) { } }

    public async Task InitializeAsync()
    {
        var (root, server) = Certificates();
        _root = root;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(server)));
        _app = builder.Build();
        _app.Use(Gate);
        _app.MapGet("/keys/{name}", (string name) => Get(name, null));
        _app.MapGet("/keys/{name}/{version}", (string name, string version) => Get(name, version));
        _app.MapPost("/keys/{name}/create", (string name, JsonObject body) => Create(name, body));
        _app.MapPost("/keys/{name}/{version}/sign", (string name, string version, JsonObject body) => Sign(name, version, body));
        await _app.StartAsync();
        _port = new Uri(_app.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        if (_app != null) await _app.DisposeAsync();
    }

    /// <summary>
    /// The client's transport: connects the vault host to this server and trusts this server's root for that
    /// connection only (default validation otherwise: chain, name, validity).
    /// </summary>
    public HttpPipelineTransport Transport(bool trustRoot = true) => new HttpClientTransport(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, _port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = trustRoot ? TrustOnlyTheVaultRoot : null,
        },
    });

    private bool TrustOnlyTheVaultRoot(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate == null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_root);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return custom.Build(presented);
    }

    /// <summary>Puts a new version under an existing name, as a rotation in the portal would.</summary>
    public string Rotate(string name) => AddVersion(name, "P-256").Version;

    private (string Version, ECDsa Key, string Curve) AddVersion(string name, string curve)
    {
        var ec = ECDsa.Create(curve switch { "P-256" => ECCurve.NamedCurves.nistP256, "P-384" => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 });
        var v = (Guid.NewGuid().ToString("N"), ec, curve);
        var versions = _keys.GetOrAdd(name, _ => []);
        lock (versions) versions.Add(v);
        return v;
    }

    private async Task Gate(HttpContext ctx, RequestDelegate next)
    {
        _requests.Enqueue($"{ctx.Request.Method} {ctx.Request.Path}");
        if (ctx.Request.Query["api-version"] != "7.4")
        {
            await Error(ctx, 400, "BadParameter", "The api-version is missing or not supported.");
            return;
        }
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || auth[7..] != FakeCredential.TokenFor(Tenant, Resource + "/.default"))
        {
            Interlocked.Increment(ref _challenges);
            ctx.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{Tenant}\", resource=\"{ChallengeResource}\"";
            await Error(ctx, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }
        if (_faults.TryDequeue(out var fault))
        {
            if (fault.Status == 429) Interlocked.Increment(ref _throttled); else Interlocked.Increment(ref _failed);
            if (fault.RetryAfter != null) ctx.Response.Headers.RetryAfter = fault.RetryAfter;
            await Error(ctx, fault.Status, fault.Status == 429 ? "Throttled" : "ServiceUnavailable", "Injected by the test.");
            return;
        }
        await next(ctx);
    }

    private static Task Error(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new { error = new { code, message } });
    }

    private static IResult NotFound(string name) =>
        Results.Json(new { error = new { code = "KeyNotFound", message = $"A key with (name/id) {name} was not found in this key vault." } }, statusCode: 404);

    private static IResult Bad(string message) => Results.Json(new { error = new { code = "BadParameter", message } }, statusCode: 400);

    private IResult Get(string name, string? version)
    {
        if (!_keys.TryGetValue(name, out var versions)) return NotFound(name);
        lock (versions)
        {
            var v = version == null ? versions[^1] : versions.FirstOrDefault(x => x.Version == version);
            return v.Key == null ? NotFound($"{name}/{version}") : Results.Json(Bundle(name, v));
        }
    }

    private IResult Create(string name, JsonObject body)
    {
        var kty = body["kty"]?.GetValue<string>();
        var crv = body["crv"]?.GetValue<string>();
        if (kty is not ("EC" or "EC-HSM")) return Bad($"kty '{kty}' is not supported here.");
        if (crv is not ("P-256" or "P-384" or "P-521")) return Bad($"crv '{crv}' is not supported.");
        return Results.Json(Bundle(name, AddVersion(name, crv)));
    }

    private IResult Sign(string name, string version, JsonObject body)
    {
        if (!_keys.TryGetValue(name, out var versions)) return NotFound(name);
        (string Version, ECDsa Key, string Curve) v;
        lock (versions) v = versions.FirstOrDefault(x => x.Version == version);
        if (v.Key == null) return NotFound($"{name}/{version}");
        var alg = body["alg"]?.GetValue<string>();
        var expected = v.Curve switch { "P-256" => ("ES256", 32), "P-384" => ("ES384", 48), _ => ("ES512", 64) };
        if (alg != expected.Item1) return Bad($"Algorithm {alg} does not fit a {v.Curve} key.");
        var digest = Base64Url.DecodeFromChars(body["value"]?.GetValue<string>() ?? "");
        if (digest.Length != expected.Item2) return Bad($"A {alg} digest has {expected.Item2} bytes.");
        var signature = v.Key.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return Results.Json(new { kid = Kid(name, v.Version), value = Base64Url.EncodeToString(signature) });
    }

    private string Kid(string name, string version) => $"https://{Host}/keys/{name}/{version}";

    private object Bundle(string name, (string Version, ECDsa Key, string Curve) v)
    {
        var p = v.Key.ExportParameters(false);
        return new
        {
            key = new { kid = Kid(name, v.Version), kty = "EC", key_ops = new[] { "sign", "verify" }, crv = v.Curve, x = Base64Url.EncodeToString(p.Q.X), y = Base64Url.EncodeToString(p.Q.Y) },
            attributes = new { enabled = true, exportable = false, recoveryLevel = "Recoverable+Purgeable" },
        };
    }

    private static (X509Certificate2 Root, X509Certificate2 Server) Certificates()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Loopback Vault Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        var root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN={Host}", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Host);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var issued = serverRequest.Create(root, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(serverKey);
        // Kestrel wants a certificate whose key it can use for TLS: round-trip through PKCS#12.
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12, ""), "");
        return (X509CertificateLoader.LoadCertificate(root.Export(X509ContentType.Cert)), server);
    }
}
