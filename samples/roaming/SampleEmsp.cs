using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PlugAndCharge.Samples.Roaming;

/// <summary>
/// The eMSP's own OCPI 2.3.0 platform, as small as the story needs: versions and details, credentials, the tokens
/// sender interface with real-time authorization (it allows its active contracts and blocks the rest), and the
/// hubclientinfo receiver. It connects to the hub with the credentials handshake and insists on the hub presenting
/// its token B. It is a separate party: it speaks OCPI JSON itself and shares no code with the hub.
/// </summary>
public sealed class SampleEmsp : IAsyncDisposable
{
    private const string V = "2.3.0";
    private readonly string _tokenB = "sample-emsp-b-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly WebApplication _app;

    /// <summary>The token C the hub gave us at registration (what we would present to call the hub's modules).</summary>
    public string? HubToken { get; private set; }
    public string CountryCode { get; }
    public string PartyId { get; }
    public string BaseUrl { get; private set; } = "";
    public string VersionsUrl => BaseUrl + "/ocpi/versions";
    /// <summary>The EMAIDs this eMSP has an active contract for: it answers ALLOWED for these, BLOCKED otherwise.</summary>
    public ConcurrentDictionary<string, bool> ActiveContracts { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Every authorization request the hub relayed: the token uid and the answer given.</summary>
    public ConcurrentQueue<(string Uid, string Allowed)> Authorizations { get; } = new();

    private SampleEmsp(WebApplication app, string countryCode, string partyId)
    {
        _app = app; CountryCode = countryCode; PartyId = partyId;
    }

    public static async Task<SampleEmsp> StartAsync(string countryCode, string partyId)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var emsp = new SampleEmsp(builder.Build(), countryCode, partyId);
        emsp.Map();
        await emsp._app.StartAsync();
        emsp.BaseUrl = emsp._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return emsp;
    }

    private void Map()
    {
        _app.MapGet("/ocpi/versions", ctx => Guard(ctx, () => Envelope(new JsonArray(new JsonObject { ["version"] = V, ["url"] = $"{BaseUrl}/ocpi/{V}" }))));
        _app.MapGet($"/ocpi/{V}", ctx => Guard(ctx, () => Envelope(new JsonObject
        {
            ["version"] = V,
            ["endpoints"] = new JsonArray(
                Endpoint("credentials", "SENDER", "credentials"), Endpoint("credentials", "RECEIVER", "credentials"),
                Endpoint("tokens", "SENDER", "sender/tokens"), Endpoint("hubclientinfo", "RECEIVER", "receiver/hubclientinfo")),
        })));
        _app.MapGet($"/ocpi/{V}/sender/tokens", ctx => Guard(ctx, () =>
        {
            ctx.Response.Headers["X-Total-Count"] = "0";
            ctx.Response.Headers["X-Limit"] = "100";
            return Envelope(new JsonArray());
        }));
        // OCPI 2.3.0 §12.4.2.2 real-time authorization: this eMSP allows what it has an active contract for.
        _app.MapPost($"/ocpi/{V}/sender/tokens/{{uid}}/authorize", ctx => Guard(ctx, () =>
        {
            var uid = (string)ctx.Request.RouteValues["uid"]!;
            var type = ctx.Request.Query["type"].ToString();
            var allowed = ActiveContracts.ContainsKey(uid) ? "ALLOWED" : "BLOCKED";
            Authorizations.Enqueue((uid, allowed));
            return Envelope(new JsonObject
            {
                ["allowed"] = allowed,
                ["token"] = Token(uid, string.IsNullOrEmpty(type) ? "EMAID" : type),
                ["authorization_reference"] = "AUTH-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)),
            });
        }));
        _app.MapPut($"/ocpi/{V}/receiver/hubclientinfo/{{cc}}/{{pid}}", ctx => Guard(ctx, () => Envelope(null)));
        _app.MapMethods($"/ocpi/{V}/credentials", ["GET", "POST", "PUT", "DELETE"], ctx => Guard(ctx, () => Envelope(Credentials(_tokenB))));
    }

    /// <summary>
    /// The OCPI credentials handshake (OCPI 2.3.0 §7.2.1): GET the hub's versions and details with token A, POST our
    /// credentials (token B, our versions URL, our EMSP role), keep the token C the hub answers with.
    /// </summary>
    public async Task<string> ConnectAsync(HttpClient hubClient, string hubVersionsUrl, string tokenA, CancellationToken ct)
    {
        var versions = await CallHubAsync(hubClient, HttpMethod.Get, hubVersionsUrl, tokenA, null, ct);
        var detailsUrl = versions!.AsArray().First(v => v!["version"]!.GetValue<string>() == V)!["url"]!.GetValue<string>();
        var details = await CallHubAsync(hubClient, HttpMethod.Get, detailsUrl, tokenA, null, ct);
        var credentialsUrl = details!["endpoints"]!.AsArray().First(e => e!["identifier"]!.GetValue<string>() == "credentials")!["url"]!.GetValue<string>();
        var answer = await CallHubAsync(hubClient, HttpMethod.Post, credentialsUrl, tokenA, Credentials(_tokenB), ct);
        HubToken = answer!["token"]!.GetValue<string>();
        // 2.3.0 names the hub by hub_party_id ("DE*PNC"); 2.2.1 by a HUB role.
        return answer["hub_party_id"]?.ToString() ?? answer["roles"]?.AsArray().Select(r => $"{r!["role"]} {r["country_code"]}-{r["party_id"]}").FirstOrDefault() ?? "the hub";
    }

    private static async Task<JsonNode?> CallHubAsync(HttpClient client, HttpMethod method, string url, string token, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("Authorization", "Token " + Convert.ToBase64String(Encoding.UTF8.GetBytes(token)));
        request.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
        request.Headers.TryAddWithoutValidation("X-Correlation-ID", Guid.NewGuid().ToString());
        if (body != null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, ct);
        var envelope = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct));
        var status = envelope?["status_code"]?.GetValue<int>();
        if (!response.IsSuccessStatusCode || status is not (>= 1000 and < 2000))
            throw new ScenarioHttpException($"{method} {url} answered HTTP {(int)response.StatusCode}, OCPI {status}: {envelope?["status_message"]}");
        return envelope!["data"];
    }

    private JsonObject Credentials(string token) => new()
    {
        ["token"] = token,
        ["url"] = VersionsUrl,
        ["roles"] = new JsonArray(new JsonObject
        {
            ["role"] = "EMSP", ["business_details"] = new JsonObject { ["name"] = "Sample eMSP" }, ["party_id"] = PartyId, ["country_code"] = CountryCode,
        }),
    };

    private JsonObject Token(string uid, string type) => new()
    {
        ["country_code"] = CountryCode, ["party_id"] = PartyId, ["uid"] = uid, ["type"] = type, ["contract_id"] = uid,
        ["issuer"] = "Sample eMSP", ["valid"] = ActiveContracts.ContainsKey(uid), ["whitelist"] = "NEVER",
        ["last_updated"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    private JsonObject Endpoint(string id, string role, string path) => new() { ["identifier"] = id, ["role"] = role, ["url"] = $"{BaseUrl}/ocpi/{V}/{path}" };

    private static JsonObject Envelope(JsonNode? data) => new()
    {
        ["data"] = data, ["status_code"] = 1000, ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    /// <summary>Only the hub, presenting our token B, may call us (OCPI 2.3.0 §4.1.3: the token as base64 or raw).</summary>
    private Task Guard(HttpContext ctx, Func<JsonObject> handler)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var expected = "Token " + Convert.ToBase64String(Encoding.UTF8.GetBytes(_tokenB));
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["X-Request-ID"] = Guid.NewGuid().ToString();
        if (ctx.Request.Headers.TryGetValue("X-Correlation-ID", out var correlation)) ctx.Response.Headers["X-Correlation-ID"] = correlation;
        if (header != expected && header != "Token " + _tokenB)
        {
            ctx.Response.StatusCode = 401;
            return ctx.Response.WriteAsync(new JsonObject { ["status_code"] = 2001, ["status_message"] = "Unknown token", ["timestamp"] = DateTimeOffset.UtcNow.ToString("O") }.ToJsonString());
        }
        return ctx.Response.WriteAsync(handler().ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
