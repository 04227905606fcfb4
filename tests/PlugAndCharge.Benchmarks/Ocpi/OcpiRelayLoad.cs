using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Endpoints;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Benchmarks.Ocpi;

/// <summary>
/// Load on the real-time authorization relay, all on loopback in one process: a hub, a fast eMSP (answers ALLOWED at
/// once) and a hanging eMSP (never answers). Open loop at a fixed rate (latency counted from the scheduled send, so a
/// stall is not hidden); compares the eMSP called directly with the same call through the hub, then repeats the hub
/// run while the hanging eMSP receives its own share of authorizations. Roaming agreements are enforced: the default is
/// closed and each relayed authorization is allowed by a recorded agreement among 2,002.
/// Usage: ocpi-load [rate=1000] [seconds=10] [hangingRate=200]
/// </summary>
public static class OcpiRelayLoad
{
    private const string TokenC = "load-token-c";
    private const string TokenB = "load-token-b";

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var hangingRate = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;

        await using var fast = await StartEmspAsync(hang: false);
        await using var hanging = await StartEmspAsync(hang: true);
        await using var hub = await StartHubAsync(fast.Url, hanging.Url);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 4096, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { Timeout = TimeSpan.FromSeconds(30) };

        var direct = $"{fast.Url}/ocpi/2.3.0/sender/tokens/DE8ACC12345678J/authorize?type=EMAID";
        var viaHub = $"{hub.Url}/ocpi/2.3.0/sender/tokens/DE8ACC12345678J/authorize?type=EMAID";
        var toHanging = $"{hub.Url}/ocpi/2.3.0/sender/tokens/FR9ZZC12345678J/authorize?type=EMAID";

        Console.WriteLine($"OCPI authorization relay: {rate} req/s for {seconds} s per run, {Environment.ProcessorCount} cores, loopback");
        await OpenLoopAsync(http, viaHub, TokenC, rate, 2, null); // warm-up: JIT, connection pools
        await OpenLoopAsync(http, direct, TokenB, rate, 2, null);

        var d = await OpenLoopAsync(http, direct, TokenB, rate, seconds, "eMSP direct");
        var h = await OpenLoopAsync(http, viaHub, TokenC, rate, seconds, "through the hub");
        var hangTask = OpenLoopAsync(http, toHanging, TokenC, hangingRate, seconds, null);
        var hh = await OpenLoopAsync(http, viaHub, TokenC, rate, seconds, $"through the hub, other eMSP hanging ({hangingRate} req/s)");
        var hangResult = await hangTask;
        Console.WriteLine($"  hanging eMSP requests: {hangResult.Ok} answered (4002 after the 2 s timeout or fail-fast), {hangResult.Errors} errors");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Added by the hub: p50 {h.P(50) - d.P(50):F2} ms, p99 {h.P(99) - d.P(99):F2} ms, CPU {h.CpuMicrosPerRequest - d.CpuMicrosPerRequest:F0} us/req; with a hanging eMSP: p50 {hh.P(50) - d.P(50):F2} ms, p99 {hh.P(99) - d.P(99):F2} ms"));

        // Closed loop: how many relayed authorizations per second the hub sustains.
        foreach (var workers in new[] { 16, 64 })
        {
            var n = await ClosedLoopAsync(http, viaHub, TokenC, workers, TimeSpan.FromSeconds(Math.Min(seconds, 5)));
            Console.WriteLine($"Closed loop, {workers} concurrent: {n:F0} relayed authorizations/s");
        }
        return 0;
    }

    private sealed record Run(double[] LatenciesMs, int Ok, int Errors, double CpuMicrosPerRequest)
    {
        public double P(double percentile)
        {
            if (LatenciesMs.Length == 0) return double.NaN;
            var i = (int)Math.Ceiling(percentile / 100 * LatenciesMs.Length) - 1;
            return LatenciesMs[Math.Clamp(i, 0, LatenciesMs.Length - 1)];
        }
    }

    private static async Task<Run> OpenLoopAsync(HttpClient http, string url, string token, int rate, int seconds, string? label)
    {
        var total = rate * seconds;
        var latencies = new double[total];
        var ok = 0;
        var errors = 0;
        var auth = CredentialsTokens.AuthorizationHeader(token);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        async Task SendAsync(int index, long scheduled)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url);
                request.Headers.TryAddWithoutValidation("Authorization", auth);
                request.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
                request.Headers.TryAddWithoutValidation("X-Correlation-ID", Guid.NewGuid().ToString());
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref ok); else Interlocked.Increment(ref errors);
            }
            catch (Exception) { Interlocked.Increment(ref errors); }
            latencies[index] = Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds;
        }

        await ScheduleAsync(start, total, rate, SendAsync);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        // CPU time of the whole process (load generator + eMSP (+ hub)) per request: unlike latency, it hardly moves when
        // other processes compete for the cores, so the hub's own cost is the difference between the runs.
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / total;
        var run = new Run(latencies, ok, errors, cpu);
        if (label != null)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label,-55} {total / elapsed,7:F0} req/s  p50 {run.P(50),6:F2}  p90 {run.P(90),6:F2}  p99 {run.P(99),6:F2}  p99.9 {run.P(99.9),6:F2}  max {latencies[^1],7:F2} ms  cpu {cpu,5:F0} us/req  ok {ok} err {errors}"));
        return run;
    }

    /// <summary>
    /// Open loop: request i is due at start + i/rate and sent then, whatever the earlier ones are doing; waits for all.
    /// No spinning: on a 2-core box a spinning generator would take a core from the hub. Requests due in the same
    /// millisecond leave together; latency still counts from each one's scheduled time.
    /// </summary>
    internal static async Task ScheduleAsync(long start, int total, int rate, Func<int, long, Task> send)
    {
        var tasks = new Task[total];
        for (var i = 0; i < total; i++)
        {
            var scheduled = start + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), scheduled);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            tasks[i] = send(i, scheduled);
        }
        await Task.WhenAll(tasks);
    }

    private static async Task<double> ClosedLoopAsync(HttpClient http, string url, string token, int workers, TimeSpan duration)
    {
        var auth = CredentialsTokens.AuthorizationHeader(token);
        long count = 0;
        var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < stop)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url);
                request.Headers.TryAddWithoutValidation("Authorization", auth);
                request.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
                request.Headers.TryAddWithoutValidation("X-Correlation-ID", Guid.NewGuid().ToString());
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref count);
            }
        })));
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>An in-process Kestrel app on loopback (hub or party) of the OCPI load tools.</summary>
    internal sealed class Server(WebApplication app, string url) : IAsyncDisposable
    {
        public WebApplication App => app;
        public string Url => url;
        public IServiceProvider Services => app.Services;
        public async ValueTask DisposeAsync() { await app.StopAsync(); await app.DisposeAsync(); }
    }

    internal static async Task<Server> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return new Server(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/'));
    }

    internal static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal static WebApplicationBuilder Builder()
    {
        var b = WebApplication.CreateSlimBuilder();
        b.Logging.ClearProviders();
        b.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        return b;
    }

    private static async Task<Server> StartEmspAsync(bool hang)
    {
        var app = Builder().Build();
        var answer = Encoding.UTF8.GetBytes("""{"data":{"allowed":"ALLOWED","token":{"country_code":"DE","party_id":"EMS","uid":"DE8ACC12345678J","type":"EMAID","contract_id":"DE8ACC12345678J","issuer":"Load eMSP","valid":true,"whitelist":"NEVER","last_updated":"2026-01-01T00:00:00Z"},"authorization_reference":"REF-1"},"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""");
        app.MapPost("/ocpi/2.3.0/sender/tokens/{uid}/authorize", async ctx =>
        {
            ctx.Response.Headers["X-Request-ID"] = ctx.Request.Headers["X-Request-ID"];
            ctx.Response.Headers["X-Correlation-ID"] = ctx.Request.Headers["X-Correlation-ID"];
            if (hang) { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); return; }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(answer);
        });
        return await StartAsync(app);
    }

    private static async Task<Server> StartHubAsync(string fastEmsp, string hangingEmsp)
    {
        var port = FreePort();
        var b = WebApplication.CreateSlimBuilder();
        b.Logging.ClearProviders();
        b.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        b.Services.AddSingleton<PlugAndCharge.Ocpi.Parties.IOcpiPartyStore, PlugAndCharge.TestSupport.Ocpi.InMemoryOcpiPartyStore>();
        b.Services.AddSingleton<PlugAndCharge.Ocpi.Tokens.IOcpiTokenStore, PlugAndCharge.TestSupport.Ocpi.InMemoryOcpiTokenStore>();
        b.Services.AddSingleton<PlugAndCharge.Ocpi.Routing.ICommandCallbackStore, PlugAndCharge.TestSupport.Ocpi.InMemoryCommandCallbackStore>();
        b.Services.AddSingleton<PlugAndCharge.Ocpi.ContractChecks.IContractStatusSource, PlugAndCharge.TestSupport.Ocpi.NoContractStatusSource>();
        b.Services.AddSingleton<IRoamingAgreementStore, PlugAndCharge.TestSupport.Ocpi.InMemoryRoamingAgreementStore>();
        // The hub builds its URLs from its configured base URL and serves only requests for it.
        b.Services.AddOcpiHub(o =>
        {
            o.PartyTimeout = TimeSpan.FromSeconds(2);
            o.LivenessInterval = TimeSpan.Zero;
            o.PublicBaseUrl = $"http://127.0.0.1:{port}/ocpi";
            o.Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(["127.0.0.0/8"]); // the parties run on loopback
            // Agreements enforced (issue 24): every relayed authorization is decided by a recorded agreement.
            o.RoamingDefault = RoamingDefault.Closed;
        });
        var app = b.Build();
        app.MapOcpiEndpoints();
        var directory = app.Services.GetRequiredService<PartyDirectory>();
        // Parties as the credentials handshake leaves them (the handshake itself is covered by the tests).
        await directory.CreateAsync(Registered("cpo", Roles.Cpo, "NL", "CPO", [], null, TokenC));
        await directory.CreateAsync(Registered("fast", Roles.Emsp, "DE", "EMS", ["DE8AC"], fastEmsp, "unused-1"));
        await directory.CreateAsync(Registered("hanging", Roles.Emsp, "FR", "HNG", ["FR9ZZ"], hangingEmsp, "unused-2"));
        var agreements = app.Services.GetRequiredService<RoamingAgreementAdministration>();
        foreach (var emsp in new[] { "DE-EMS", "FR-HNG" })
            await agreements.CreateAsync(new(AgreementText.Party("NL-CPO"), AgreementText.Party(emsp), [AgreementScope.RealTimeAuthorization, AgreementScope.PlugAndCharge]), "load");
        // A hub's worth of other pairs beside them (the decision is a lookup among all of them).
        for (var i = 0; i < 2_000; i++)
            await agreements.CreateAsync(new(new RoamingParty("NL", $"C{i % 50:D2}"), new RoamingParty("DE", $"E{i / 50:D2}"), Enum.GetValues<AgreementScope>()), "load");
        return await StartAsync(app);
    }

    private static PartyRecord Registered(string id, string role, string cc, string pid, string[] prefixes, string? url, string tokenC) => new()
    {
        Id = id, Name = id, Roles = [new PartyRole(role, cc, pid)], ProviderPrefixes = prefixes, Status = PartyStatus.Connected,
        Version = "2.3.0", VersionsUrl = (url ?? "http://127.0.0.1:9") + "/ocpi/versions", OutgoingToken = TokenB,
        Endpoints = url is null ? [] : [new PartyEndpoint("tokens", InterfaceRoles.Sender, url + "/ocpi/2.3.0/sender/tokens")],
        IncomingTokenHash = CredentialsTokens.Hash(tokenC), IncomingTokenKind = CredentialsTokenKind.C,
    };
}
