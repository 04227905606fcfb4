using System.Collections.Concurrent;
using System.Diagnostics;
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
using Npgsql;
using NpgsqlTypes;
using PlugAndCharge.Ocpi;
using PlugAndCharge.Ocpi.Endpoints;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Ocpi;

namespace PlugAndCharge.Benchmarks.Ocpi;

/// <summary>
/// The hub's location store under the issue 24 loads, one process on loopback against PNC_BENCH_DATABASE (a server; a
/// fresh database is created and dropped):
/// <list type="number">
/// <item>GET-all: LOCATIONS Locations (3 EVSEs each but every 17th with 2: 85,000 give 250,000 EVSEs) of 50 CPOs,
/// seeded by COPY into the store's table, read by an eMSP through the hub in pages of 1,000 following the Link header;
/// each walk's total time and per-page times (first, last, p50, p99, max).</item>
/// <item>EVSE status PATCHes from the CPOs at RATE/s for SECONDS, each reaching 20 subscribed eMSPs (in-process Kestrel
/// receivers): latency from the PATCH's scheduled send to its arrival at each eMSP.</item>
/// </list>
/// Usage: ocpi-store [locations=85000] [rate=500] [seconds=10] [emsps=20]
/// </summary>
public static class OcpiStoreLoad
{
    private const int Cpos = 50;
    private const int PageSize = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var locations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 85_000;
        var rate = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var emspCount = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20;
        var server = Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") ?? throw new InvalidOperationException("Set PNC_BENCH_DATABASE.");
        await using var fresh = await PlugAndCharge.Tests.PostgresDatabase.CreateAsync(server, "pnc_store_bench_", maxPoolSize: 100);
        var cs = fresh.ConnectionString;
        await using var db = StorageDataSource.Create(cs);
        await MigrationRunner.ApplyAsync(db);
        var arrivals = new Arrivals();
        var emsps = new List<OcpiRelayLoad.Server>();
        for (var i = 0; i < emspCount; i++) emsps.Add(await StartEmspAsync(i, arrivals));
        await using var hub = await StartHubAsync(db, emsps);
        Console.WriteLine($"OCPI hub location store: {Environment.ProcessorCount} cores, loopback, PostgreSQL {server.Split(';').FirstOrDefault(p => p.StartsWith("Port", StringComparison.OrdinalIgnoreCase))}");

        var evses = await SeedAsync(new NpgsqlConnectionStringBuilder(cs) { CommandTimeout = 0 }.ConnectionString, locations);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        { Timeout = TimeSpan.FromSeconds(60) };
        for (var walk = 1; walk <= 3; walk++) await WalkAsync(http, hub.Url, walk == 1 ? "warm-up walk" : $"walk {walk - 1}");
        await StoreWalkAsync(hub.Services.GetRequiredService<IHubObjectStore>());
        if (rate == 0) return 0;
        await PatchLoadAsync(http, hub.Url, arrivals, emspCount, rate, 2, null); // warm-up: JIT, connection pools
        await PatchLoadAsync(http, hub.Url, arrivals, emspCount, rate, seconds, $"EVSE status PATCH at {rate}/s to {emspCount} eMSPs");
        foreach (var e in emsps) await e.DisposeAsync();
        Console.WriteLine($"({locations} locations, {evses} EVSEs)");
        return 0;
    }

    private static string CpoId(int i) => "C" + i.ToString("D2", CultureInfo.InvariantCulture);
    private static string LocationId(int i) => "LOC" + i.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The official 2.3.0 example Location with a third EVSE (every 17th keeps two), ids made unique.</summary>
    private static JsonObject Template()
    {
        var o = JsonNode.Parse(File.ReadAllText(Path.Combine(PlugAndCharge.Tests.TestPaths.RepoRoot, "tests/PlugAndCharge.Ocpi.Tests/Examples/location-2.3.0.json")))!.AsObject();
        foreach (var evse in o["evses"]!.AsArray()) evse!.AsObject().Remove("parking");
        var third = o["evses"]![0]!.DeepClone().AsObject();
        third["uid"] = "3258";
        third["evse_id"] = "BE*BEC*E041503003";
        o["evses"]!.AsArray().Add(third);
        return o;
    }

    /// <summary>COPY (binary) straight into the store's table: 85,000 rows in seconds; the store's write path is what the PATCH load runs.</summary>
    private static async Task<int> SeedAsync(string connectionString, int locations)
    {
        var template = Template();
        var sw = Stopwatch.StartNew();
        var evses = 0;
        var baseTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // Its own connection without the store's timeouts: the seed is one long COPY.
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync();
            await using (var copy = await conn.BeginBinaryImportAsync("copy ocpi_locations (country_code, party_code, id, version, last_updated, body) from stdin (format binary)"))
            {
            for (var i = 0; i < locations; i++)
            {
                var l = template.DeepClone().AsObject();
                var cpo = CpoId(i % Cpos);
                l["country_code"] = "NL"; l["party_id"] = cpo; l["id"] = LocationId(i);
                if (i % 17 == 0) l["evses"]!.AsArray().RemoveAt(2);
                evses += l["evses"]!.AsArray().Count;
                var updated = baseTime.AddSeconds(i);
                l["last_updated"] = UtcTimestampConverter.Format(updated);
                await copy.StartRowAsync();
                await copy.WriteAsync("NL", NpgsqlDbType.Text);
                await copy.WriteAsync(cpo, NpgsqlDbType.Text);
                await copy.WriteAsync(LocationId(i), NpgsqlDbType.Text);
                await copy.WriteAsync("2.3.0", NpgsqlDbType.Text);
                await copy.WriteAsync(updated, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(l.ToJsonString(), NpgsqlDbType.Json);
            }
            await copy.CompleteAsync();
            }
            await new NpgsqlCommand("vacuum analyze ocpi_locations", conn).ExecuteNonQueryAsync();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Seeded {locations} locations ({evses} EVSEs, {Cpos} CPOs) by COPY in {sw.Elapsed.TotalSeconds:F1} s"));
        return evses;
    }

    /// <summary>One eMSP reads every Location through the hub, following the Link header from page to page.</summary>
    private static async Task WalkAsync(HttpClient http, string hubUrl, string label)
    {
        var url = $"{hubUrl}/ocpi/2.3.0/sender/locations?limit={PageSize}";
        var pages = new List<double>();
        var objects = 0;
        long bytes = 0;
        var total = Stopwatch.StartNew();
        while (url != null)
        {
            var sw = Stopwatch.StartNew();
            using var request = Request(HttpMethod.Get, url, ReaderToken);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            pages.Add(sw.Elapsed.TotalMilliseconds);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {url}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
            bytes += body.Length;
            objects += CountObjects(body);
            url = response.Headers.TryGetValues("Link", out var link) ? link.First()[1..link.First().IndexOf('>')] : null;
        }
        var elapsed = total.Elapsed.TotalSeconds;
        var sorted = pages.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  GET-all {label,-13}: {objects} locations in {pages.Count} pages, {elapsed:F2} s, {bytes / 1e6:F0} MB; page first {pages[0]:F1} ms, last {pages[^1]:F1} ms, p50 {P(sorted, 50):F1}, p99 {P(sorted, 99):F1}, max {sorted[^1]:F1} ms"));
    }

    /// <summary>The same walk on the store alone (no HTTP): what PostgreSQL and the query cost of each page.</summary>
    private static async Task StoreWalkAsync(IHubObjectStore store)
    {
        var cpos = Enumerable.Range(0, Cpos).Select(i => new PlugAndCharge.Ocpi.Agreements.RoamingParty("NL", CpoId(i))).ToList();
        var pages = new List<double>();
        PageCursor? after = null;
        var total = Stopwatch.StartNew();
        while (true)
        {
            var sw = Stopwatch.StartNew();
            var page = await store.ListAsync(new HubObjectQuery(HubObjectKind.Location, cpos, null, null, 0, PageSize, after));
            pages.Add(sw.Elapsed.TotalMilliseconds);
            if (page.Items.Count < PageSize) break;
            var last = page.Items[^1];
            after = new PageCursor(last.LastUpdated, last.Key.CountryCode, last.Key.PartyId, last.Key.Id);
        }
        var sorted = pages.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  store alone (no HTTP)  : {pages.Count} pages, {total.Elapsed.TotalSeconds:F2} s; page first {pages[0]:F1} ms, last {pages[^1]:F1} ms, p50 {P(sorted, 50):F1}, p99 {P(sorted, 99):F1} ms"));
    }

    /// <summary>Top-level objects in the envelope's data array (each Location is one object at depth 2).</summary>
    private static int CountObjects(byte[] body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body);
        var n = 0;
        while (reader.Read()) if (reader.TokenType == System.Text.Json.JsonTokenType.StartObject && reader.CurrentDepth == 2) n++;
        return n;
    }

    private static double P(double[] sorted, double percentile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>When each PATCH was due, and each arrival's delay at the eMSPs.</summary>
    private sealed class Arrivals
    {
        public ConcurrentDictionary<string, long> Scheduled { get; } = new();
        public ConcurrentBag<double> DelaysMs { get; } = [];
        public void Arrived(string key)
        {
            if (Scheduled.TryGetValue(key, out var at)) DelaysMs.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
        }
    }

    private static async Task PatchLoadAsync(HttpClient http, string hubUrl, Arrivals arrivals, int emsps, int rate, int seconds, string? label)
    {
        arrivals.Scheduled.Clear();
        arrivals.DelaysMs.Clear();
        var total = rate * seconds;
        var answers = new double[total];
        var errors = 0;
        var start = Stopwatch.GetTimestamp();
        async Task SendAsync(int i, long scheduled)
        {
            // Location i of CPO i % 50 (the seed's layout), its first EVSE; every PATCH a different Location.
            var cpo = CpoId(i % Cpos);
            var key = $"{LocationId(i)}/3256";
            arrivals.Scheduled[key] = scheduled;
            var body = $$"""{"status":"{{(i % 2 == 0 ? "CHARGING" : "AVAILABLE")}}","last_updated":"{{UtcTimestampConverter.Format(DateTimeOffset.UtcNow)}}"}""";
            try
            {
                using var request = Request(HttpMethod.Patch, $"{hubUrl}/ocpi/2.3.0/receiver/locations/NL/{cpo}/{key}", CpoToken(i % Cpos));
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            catch (Exception) { Interlocked.Increment(ref errors); }
            answers[i] = Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds;
        }
        await OcpiRelayLoad.ScheduleAsync(start, total, rate, SendAsync);
        var expected = (long)total * emsps;
        var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (arrivals.DelaysMs.Count < expected && Stopwatch.GetTimestamp() < deadline) await Task.Delay(50);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (label is null) return;
        Array.Sort(answers);
        var delays = arrivals.DelaysMs.ToArray();
        Array.Sort(delays);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {label}: {total} PATCHes ({errors} errors), {delays.Length} of {expected} deliveries in {elapsed:F1} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    CPO's PATCH answered:   p50 {P(answers, 50):F1}  p99 {P(answers, 99):F1}  max {answers[^1]:F1} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    arrival at each eMSP:   p50 {P(delays, 50):F1}  p90 {P(delays, 90):F1}  p99 {P(delays, 99):F1}  max {(delays.Length > 0 ? delays[^1] : double.NaN):F1} ms"));
    }

    private const string ReaderToken = "bench-reader-c";
    private static string CpoToken(int i) => "bench-cpo-c-" + i.ToString(CultureInfo.InvariantCulture);

    private static HttpRequestMessage Request(HttpMethod method, string url, string token)
    {
        var r = new HttpRequestMessage(method, url);
        r.Headers.TryAddWithoutValidation("Authorization", CredentialsTokens.AuthorizationHeader(token));
        r.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
        r.Headers.TryAddWithoutValidation("X-Correlation-ID", Guid.NewGuid().ToString());
        return r;
    }

    /// <summary>An eMSP's locations receiver: notes each EVSE push's arrival, answers 1000.</summary>
    private static Task<OcpiRelayLoad.Server> StartEmspAsync(int index, Arrivals arrivals)
    {
        var app = OcpiRelayLoad.Builder().Build();
        var ok = Encoding.UTF8.GetBytes("""{"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""");
        app.MapMethods("/ocpi/2.3.0/receiver/locations/{cc}/{pid}/{id}/{evse}", ["PATCH", "PUT"], async ctx =>
        {
            arrivals.Arrived($"{ctx.Request.RouteValues["id"]}/{ctx.Request.RouteValues["evse"]}");
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(ok);
        });
        _ = index;
        return OcpiRelayLoad.StartAsync(app);
    }

    private static async Task<OcpiRelayLoad.Server> StartHubAsync(NpgsqlDataSource db, List<OcpiRelayLoad.Server> emsps)
    {
        var port = OcpiRelayLoad.FreePort();
        var b = WebApplication.CreateSlimBuilder();
        b.Logging.ClearProviders();
        b.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        b.Services.AddStorage(db, RandomNumberGenerator.GetBytes(32));
        b.Services.AddSingleton<PlugAndCharge.Ocpi.ContractChecks.IContractStatusSource, PlugAndCharge.TestSupport.Ocpi.NoContractStatusSource>();
        b.Services.AddOcpiHub(o =>
        {
            o.PartyTimeout = TimeSpan.FromSeconds(2);
            o.LivenessInterval = TimeSpan.Zero;
            o.MaxPageSize = PageSize;
            o.StorePollInterval = TimeSpan.Zero;
            o.PublicBaseUrl = $"http://127.0.0.1:{port}/ocpi";
            o.Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(["127.0.0.0/8"]); // the parties run on loopback
        });
        b.Services.AddOcpiLocationStore();
        var app = b.Build();
        app.MapOcpiEndpoints();
        var directory = app.Services.GetRequiredService<PartyDirectory>();
        // Parties as the credentials handshake leaves them (the handshake itself is covered by the tests).
        for (var i = 0; i < Cpos; i++) await directory.CreateAsync(Registered($"cpo{i}", Roles.Cpo, "NL", CpoId(i), null, CpoToken(i)));
        for (var i = 0; i < emsps.Count; i++)
            await directory.CreateAsync(Registered($"emsp{i}", Roles.Emsp, "DE", "E" + i.ToString("D2", CultureInfo.InvariantCulture), emsps[i].Url, $"bench-emsp-c-{i}"));
        await directory.CreateAsync(Registered("reader", Roles.Emsp, "DE", "RDR", null, ReaderToken));
        return await OcpiRelayLoad.StartAsync(app);
    }

    private static PartyRecord Registered(string id, string role, string cc, string pid, string? url, string tokenC) => new()
    {
        Id = id, Name = id, Roles = [new PartyRole(role, cc, pid)], Status = PartyStatus.Connected,
        Version = "2.3.0", VersionsUrl = (url ?? "http://127.0.0.1:9") + "/ocpi/versions", OutgoingToken = "bench-token-b",
        Endpoints = url is null ? [] : [new PartyEndpoint("locations", InterfaceRoles.Receiver, url + "/ocpi/2.3.0/receiver/locations")],
        IncomingTokenHash = CredentialsTokens.Hash(tokenC), IncomingTokenKind = CredentialsTokenKind.C,
    };
}
