using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Tests.Infrastructure;

/// <summary>A request the party received from the hub.</summary>
public sealed record Received(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>What the eMSP answers to a real-time authorization: an HTTP status and an OCPI envelope (null: hang).</summary>
public sealed record AuthorizeReply(int Status, JsonObject? Envelope);

/// <summary>
/// A CPO or eMSP platform as a small Kestrel app: versions, version details, the module interfaces its role implements
/// (CPO: tokens receiver, locations sender, hubclientinfo receiver; eMSP: tokens sender, locations receiver,
/// hubclientinfo receiver), and a client to call the hub. It insists on the hub presenting its token B, and records
/// and captures everything for OpenAPI validation.
/// </summary>
public sealed class FakeParty : IAsyncDisposable
{
    public string Role { get; }
    public string CountryCode { get; }
    public string PartyId { get; }
    public OcpiVersion Version { get; }
    public string Name => $"{Role} {CountryCode}-{PartyId}";
    public string V => Version.ToText();
    public string TokenB { get; private set; } = "party-token-b-" + Guid.NewGuid().ToString("N");
    public string? HubToken { get; set; }
    public Dictionary<string, string> HubEndpoints { get; } = new(StringComparer.Ordinal);
    public string BaseUrl { get; private set; } = "";
    public string VersionsUrl => BaseUrl + "/ocpi/versions";
    public TrafficLog Traffic { get; }
    public HttpClient Client { get; }

    public ConcurrentQueue<Received> ReceivedRequests { get; } = new();
    public ConcurrentDictionary<string, JsonObject> PushedTokens { get; } = new();
    public ConcurrentDictionary<string, JsonObject> PushedLocations { get; } = new();
    /// <summary>Every push to the eMSP's locations receiver interface: method, path below the module, body.</summary>
    public ConcurrentQueue<(string Method, string Path, JsonObject Body)> LocationPushes { get; } = new();
    public ConcurrentDictionary<string, JsonObject> ClientInfos { get; } = new();
    public ConcurrentDictionary<string, JsonObject> PushedSessions { get; } = new();
    public ConcurrentDictionary<string, JsonObject> PushedCdrs { get; } = new();
    /// <summary>Commands a CPO received (command name, body) and CommandResults an eMSP received (its reference, body).</summary>
    public ConcurrentQueue<(string Command, JsonObject Body)> Commands { get; } = new();
    public ConcurrentQueue<(string Reference, JsonObject Body)> CommandResults { get; } = new();
    public List<JsonObject> OwnLocations { get; } = [];
    public Func<string, string, JsonObject?, Task<AuthorizeReply>> OnAuthorize { get; set; }
    /// <summary>Awaited before the party answers a read of its versions (holds a credentials handshake in flight).</summary>
    public Func<Task>? BeforeVersions { get; set; }
    /// <summary>Awaited before the party answers a page of its sender locations, with the page's offset.</summary>
    public Func<int, Task>? BeforeLocationsPage { get; set; }
    public int AuthorizeCalls => _authorizeCalls;

    private int _authorizeCalls;
    private WebApplication? _app;
    private int _port;

    private FakeParty(string role, string cc, string pid, OcpiVersion version, TrafficLog traffic)
    {
        Role = role; CountryCode = cc; PartyId = pid; Version = version; Traffic = traffic;
        Client = new HttpClient(new CapturingHandler(traffic, $"{role} {cc}-{pid} -> hub"));
        OnAuthorize = (uid, type, location) => Task.FromResult(Allowed(uid, type, location, "REF-" + uid));
    }

    public static async Task<FakeParty> StartAsync(string role, string cc, string pid, OcpiVersion version, TrafficLog traffic)
    {
        var p = new FakeParty(role, cc, pid, version, traffic);
        await p.StartServerAsync();
        return p;
    }

    /// <summary>Stops the party's server: the hub then finds it unreachable.</summary>
    public async Task StopServerAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>Starts (or restarts, on the same port) the party's server.</summary>
    public async Task StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, _port));
        _app = builder.Build();
        _app.Use(CaptureAsync);
        Map(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.TrimEnd('/');
        _port = new Uri(BaseUrl).Port;
    }

    // ---- the party as a server ----

    private void Map(WebApplication app)
    {
        var v = V;
        app.MapGet("/ocpi/versions", ctx => Authenticated(ctx, async () =>
        {
            if (BeforeVersions is { } hold) await hold();
            await Reply(ctx, 200, Envelope(new JsonArray(new JsonObject { ["version"] = v, ["url"] = $"{BaseUrl}/ocpi/{v}/details" })));
        }));
        app.MapGet($"/ocpi/{v}/details", ctx => Authenticated(ctx, () =>
        {
            var eps = new JsonArray { Endpoint("credentials", "SENDER", "credentials"), Endpoint("credentials", "RECEIVER", "credentials"),
                Endpoint("hubclientinfo", "RECEIVER", "receiver/hubclientinfo") };
            if (Role == Roles.Cpo)
            {
                eps.Add(Endpoint("tokens", "RECEIVER", "receiver/tokens")); eps.Add(Endpoint("locations", "SENDER", "sender/locations"));
                eps.Add(Endpoint("commands", "RECEIVER", "receiver/commands"));
            }
            else
            {
                eps.Add(Endpoint("tokens", "SENDER", "sender/tokens")); eps.Add(Endpoint("locations", "RECEIVER", "receiver/locations"));
                eps.Add(Endpoint("sessions", "RECEIVER", "receiver/sessions")); eps.Add(Endpoint("cdrs", "RECEIVER", "receiver/cdrs"));
            }
            return Reply(ctx, 200, Envelope(new JsonObject { ["version"] = v, ["endpoints"] = eps }));
        }));
        app.MapPut($"/ocpi/{v}/receiver/hubclientinfo/{{cc}}/{{pid}}", ctx => Authenticated(ctx, async () =>
        {
            ClientInfos[$"{ctx.Request.RouteValues["cc"]}-{ctx.Request.RouteValues["pid"]}"] = (await Body(ctx))!;
            await Reply(ctx, 200, Envelope(null));
        }));
        // Commands: a CPO accepts them (CommandResponse); an eMSP takes the asynchronous CommandResult at its response_url.
        app.MapPost($"/ocpi/{v}/receiver/commands/{{command}}", ctx => Authenticated(ctx, async () =>
        {
            Commands.Enqueue(((string)ctx.Request.RouteValues["command"]!, (await Body(ctx))!));
            await Reply(ctx, 200, Envelope(new JsonObject { ["result"] = "ACCEPTED", ["timeout"] = 30 }));
        }));
        app.MapPost($"/ocpi/{v}/emsp/command-results/{{reference}}", ctx => Authenticated(ctx, async () =>
        {
            CommandResults.Enqueue(((string)ctx.Request.RouteValues["reference"]!, (await Body(ctx))!));
            await Reply(ctx, 200, Envelope(null));
        }));
        if (Role == Roles.Cpo)
        {
            app.MapMethods($"/ocpi/{v}/receiver/tokens/{{cc}}/{{pid}}/{{uid}}", ["PUT", "PATCH"], ctx => Authenticated(ctx, async () =>
            {
                var key = $"{ctx.Request.RouteValues["cc"]}/{ctx.Request.RouteValues["pid"]}/{ctx.Request.RouteValues["uid"]}?{ctx.Request.Query["type"]}";
                var body = (await Body(ctx))!;
                if (ctx.Request.Method == "PATCH" && PushedTokens.TryGetValue(key, out var existing))
                    foreach (var (k, val) in body) existing[k] = val?.DeepClone();
                else PushedTokens[key] = body;
                await Reply(ctx, 200, Envelope(null));
            }));
            app.MapGet($"/ocpi/{v}/sender/locations", ctx => Authenticated(ctx, async () =>
            {
                var offset = int.TryParse(ctx.Request.Query["offset"], out var o) ? o : 0;
                if (BeforeLocationsPage is { } before) await before(offset);
                var limit = int.TryParse(ctx.Request.Query["limit"], out var l) ? l : 10;
                // date_from (inclusive), as a sender filters its list for an incremental pull.
                var from = DateTimeOffset.TryParse(ctx.Request.Query["date_from"], out var f) ? f : DateTimeOffset.MinValue;
                var matching = OwnLocations.Where(x => DateTimeOffset.Parse(x["last_updated"]!.GetValue<string>()) >= from).ToList();
                var page = matching.Skip(offset).Take(limit).Select(x => (JsonNode)x.DeepClone()).ToArray();
                ctx.Response.Headers["X-Total-Count"] = matching.Count.ToString();
                ctx.Response.Headers["X-Limit"] = limit.ToString();
                if (offset + page.Length < matching.Count)
                    ctx.Response.Headers["Link"] = $"<{BaseUrl}/ocpi/{v}/sender/locations?offset={offset + page.Length}&limit={limit}>; rel=\"next\"";
                await Reply(ctx, 200, Envelope(new JsonArray(page)));
            }));
            app.MapGet($"/ocpi/{v}/sender/locations/{{id}}", ctx => Authenticated(ctx, () =>
            {
                var id = (string)ctx.Request.RouteValues["id"]!;
                var found = OwnLocations.FirstOrDefault(l => l["id"]!.GetValue<string>() == id);
                return found is null ? Reply(ctx, 404, Envelope(null, 2003, "Unknown location")) : Reply(ctx, 200, Envelope(found.DeepClone()));
            }));
        }
        else
        {
            app.MapPost($"/ocpi/{v}/sender/tokens/{{uid}}/authorize", ctx => Authenticated(ctx, async () =>
            {
                Interlocked.Increment(ref _authorizeCalls);
                var location = ctx.Request.ContentLength > 0 ? await Body(ctx) : null;
                var reply = await OnAuthorize((string)ctx.Request.RouteValues["uid"]!, ctx.Request.Query["type"].ToString(), location);
                if (reply.Envelope is null) { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); return; }
                await Reply(ctx, reply.Status, reply.Envelope);
            }));
            app.MapMethods($"/ocpi/{v}/receiver/locations/{{cc}}/{{pid}}/{{id}}", ["PUT", "PATCH"], ctx => Authenticated(ctx, async () =>
            {
                var body = (await Body(ctx))!;
                LocationPushes.Enqueue((ctx.Request.Method, $"{ctx.Request.RouteValues["cc"]}/{ctx.Request.RouteValues["pid"]}/{ctx.Request.RouteValues["id"]}", body));
                PushedLocations[(string)ctx.Request.RouteValues["id"]!] = body;
                await Reply(ctx, 200, Envelope(null));
            }));
            // EVSE and Connector pushes (a status PATCH of one EVSE).
            app.MapMethods($"/ocpi/{v}/receiver/locations/{{cc}}/{{pid}}/{{id}}/{{**evse}}", ["PUT", "PATCH"], ctx => Authenticated(ctx, async () =>
            {
                var rv = ctx.Request.RouteValues;
                LocationPushes.Enqueue((ctx.Request.Method, $"{rv["cc"]}/{rv["pid"]}/{rv["id"]}/{rv["evse"]}", (await Body(ctx))!));
                await Reply(ctx, 200, Envelope(null));
            }));
            app.MapPut($"/ocpi/{v}/receiver/sessions/{{cc}}/{{pid}}/{{id}}", ctx => Authenticated(ctx, async () =>
            {
                PushedSessions[(string)ctx.Request.RouteValues["id"]!] = (await Body(ctx))!;
                await Reply(ctx, 200, Envelope(null));
            }));
            app.MapPost($"/ocpi/{v}/receiver/cdrs", ctx => Authenticated(ctx, async () =>
            {
                var cdr = (await Body(ctx))!;
                PushedCdrs[cdr["id"]?.GetValue<string>() ?? ""] = cdr;
                ctx.Response.Headers.Location = $"{BaseUrl}/ocpi/{v}/receiver/cdrs/{cdr["id"]}";
                await Reply(ctx, 201, Envelope(null));
            }));
        }
    }

    private JsonObject Endpoint(string id, string role, string path) => new() { ["identifier"] = id, ["role"] = role, ["url"] = $"{BaseUrl}/ocpi/{V}/{path}" };

    private async Task Authenticated(HttpContext ctx, Func<Task> handler)
    {
        ctx.Response.Headers["X-Request-ID"] = ctx.Request.Headers["X-Request-ID"].ToString() is { Length: > 0 } r ? r : Guid.NewGuid().ToString();
        ctx.Response.Headers["X-Correlation-ID"] = ctx.Request.Headers["X-Correlation-ID"].ToString() is { Length: > 0 } c ? c : Guid.NewGuid().ToString();
        if (ctx.Request.Headers.Authorization.ToString() != CredentialsTokens.AuthorizationHeader(TokenB))
        {
            await Reply(ctx, 401, Envelope(null, 2000, "Wrong token"));
            return;
        }
        await handler();
    }

    private async Task CaptureAsync(HttpContext ctx, RequestDelegate next)
    {
        ctx.Request.EnableBuffering();
        var requestBody = await new StreamReader(ctx.Request.Body, Encoding.UTF8, leaveOpen: true).ReadToEndAsync();
        ctx.Request.Body.Position = 0;
        var original = ctx.Response.Body;
        using var buffer = new MemoryStream();
        ctx.Response.Body = buffer;
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        ReceivedRequests.Enqueue(new Received(ctx.Request.Method, ctx.Request.Path, ctx.Request.QueryString.Value ?? "", headers, requestBody));
        try { await next(ctx); }
        finally
        {
            ctx.Response.Body = original;
            var responseBody = Encoding.UTF8.GetString(buffer.ToArray());
            if (!ctx.RequestAborted.IsCancellationRequested)
            {
                buffer.Position = 0;
                await buffer.CopyToAsync(original);
                var url = new Uri(BaseUrl + ctx.Request.Path + ctx.Request.QueryString);
                Traffic.Add(new Exchange(ctx.Request.Method, url, headers, requestBody, ctx.Response.StatusCode,
                    ctx.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), responseBody, $"hub -> {Name}"));
            }
        }
    }

    private static async Task<JsonObject?> Body(HttpContext ctx) => JsonNode.Parse(await new StreamReader(ctx.Request.Body).ReadToEndAsync()) as JsonObject;

    private static Task Reply(HttpContext ctx, int status, JsonObject envelope)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(envelope.ToJsonString());
    }

    public static JsonObject Envelope(JsonNode? data, int status = 1000, string? message = null)
    {
        var o = new JsonObject();
        if (data != null) o["data"] = data;
        o["status_code"] = status;
        if (message != null) o["status_message"] = message;
        o["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        return o;
    }

    public JsonObject Token(string uid, string type, string whitelist = "ALLOWED", bool valid = true) => new()
    {
        ["country_code"] = CountryCode, ["party_id"] = PartyId, ["uid"] = uid, ["type"] = type, ["contract_id"] = uid,
        ["issuer"] = Name, ["valid"] = valid, ["whitelist"] = whitelist, ["last_updated"] = "2026-01-01T10:00:00Z",
    };

    public AuthorizeReply Allowed(string uid, string type, JsonObject? location, string reference, string allowed = "ALLOWED")
    {
        var data = new JsonObject { ["allowed"] = allowed, ["token"] = Token(uid, type) };
        if (location != null) data["location"] = location.DeepClone();
        data["authorization_reference"] = reference;
        return new AuthorizeReply(200, Envelope(data));
    }

    public static JsonObject LocationExample(OcpiVersion version, string cc, string pid, string id)
    {
        var o = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", $"location-{version.ToText()}.json")))!.AsObject();
        o["country_code"] = cc; o["party_id"] = pid; o["id"] = id;
        // The official 2.3.0 example still lists EVSE parking as strings; the 2.3.0 schema wants EVSEParking objects.
        if (version == OcpiVersion.V230)
            foreach (var evse in o["evses"]?.AsArray() ?? []) evse!.AsObject().Remove("parking");
        return o;
    }

    // ---- the party as a client of the hub ----

    /// <summary>The credentials handshake: versions and details with token A, then POST credentials with token B; keeps token C.</summary>
    public async Task<JsonObject> RegisterAsync(string hubVersionsUrl, string tokenA)
    {
        HubToken = tokenA;
        var versions = await GetDataAsync(hubVersionsUrl);
        var detailsUrl = versions!.AsArray().First(x => x!["version"]!.GetValue<string>() == V)!["url"]!.GetValue<string>();
        var details = await GetDataAsync(detailsUrl);
        HubEndpoints.Clear();
        foreach (var e in details!["endpoints"]!.AsArray()) HubEndpoints[$"{e!["identifier"]}:{e["role"]}"] = e["url"]!.GetValue<string>();
        var response = await CallAsync(HttpMethod.Post, HubEndpoints["credentials:RECEIVER"], CredentialsBody());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        if (body["status_code"]!.GetValue<int>() != 1000) throw new InvalidOperationException("Registration failed: " + body.ToJsonString());
        HubToken = body["data"]!["token"]!.GetValue<string>();
        return body["data"]!.AsObject();
    }

    public JsonObject CredentialsBody(string? token = null) => new()
    {
        ["token"] = token ?? TokenB,
        ["url"] = VersionsUrl,
        ["roles"] = new JsonArray(new JsonObject
        {
            ["role"] = Role, ["business_details"] = new JsonObject { ["name"] = Name }, ["party_id"] = PartyId, ["country_code"] = CountryCode,
        }),
    };

    public void RotateTokenB() => TokenB = "party-token-b-" + Guid.NewGuid().ToString("N");

    public string Hub(string module, string role) => HubEndpoints[$"{module}:{role}"];

    public async Task<JsonNode?> GetDataAsync(string url)
    {
        using var r = await CallAsync(HttpMethod.Get, url);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"GET {url}: HTTP {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!["data"];
    }

    /// <summary>Calls the hub with this party's token (base64 unless <paramref name="rawToken"/>), a new X-Request-ID and the given correlation ID.</summary>
    public Task<HttpResponseMessage> CallAsync(HttpMethod method, string url, JsonNode? body = null, IDictionary<string, string>? headers = null,
        bool rawToken = false, string? correlationId = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, url);
        var t = token ?? HubToken ?? "";
        request.Headers.TryAddWithoutValidation("Authorization", rawToken ? "Token " + t : CredentialsTokens.AuthorizationHeader(t));
        request.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
        request.Headers.TryAddWithoutValidation("X-Correlation-ID", correlationId ?? Guid.NewGuid().ToString());
        foreach (var (k, val) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(k, val);
        if (body != null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return Client.SendAsync(request);
    }

    public Dictionary<string, string> To(FakeParty other) => new()
    {
        ["OCPI-from-country-code"] = CountryCode, ["OCPI-from-party-id"] = PartyId,
        ["OCPI-to-country-code"] = other.CountryCode, ["OCPI-to-party-id"] = other.PartyId,
    };

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        Client.Dispose();
    }
}

public static class HttpResponseExtensions
{
    public static async Task<JsonObject> EnvelopeAsync(this HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
}
