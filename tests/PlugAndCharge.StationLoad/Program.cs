using System.Globalization;
using System.Text;
using System.Text.Json;
using PlugAndCharge.FaultSuite;
using PlugAndCharge.StationLoad;

// usage: StationLoad --home CLUSTER_HOME [--instance a] [--stations N] [--heartbeat S] [--authorize-rate R]
//   [--install-rate R] [--duration S] [--scenario steady|restart] [--cars N] [--sources N] [--connect-concurrency N]
//   [--ramp N/s] [--quiet S] [--warm-up S] [--restart-timeout S] [--register-concurrency N] [--retry-minimum S]
//   [--retry-repeat-times N] [--windows N]
// Against one instance of a scripts/cluster.sh cluster (scripts/station-load.sh starts one); loopback only, bounded in
// time. Prints the numbers of docs/performance.md "Fleet scale".
var o = Options.Parse(args);
// After a restart, this many of the first stations back each send an Authorize at once (StationFleet.AuthorizeFirstBack).
const int FirstBack = 20;
var log = Console.Out;
var cluster = new ClusterControl(o.Home);
var probe = new ServiceProbe(() => cluster.InstancePid(o.Instance));

var registered = await FleetRegistration.LoadOrRegisterAsync(cluster, o.Skip + o.Stations, o.Cars, o.RegisterConcurrency, log);
var authorizations = registered.Cars.Select(c => JsonSerializer.SerializeToUtf8Bytes(new { idToken = new { idToken = c.Emaid, type = "eMAID" }, certificate = c.ChainPem })).ToList();
var installations = registered.Cars.Select(c => JsonSerializer.SerializeToUtf8Bytes(new { iso15118SchemaVersion = "urn:iso:15118:2:2013:MsgDef", action = "Install", exiRequest = c.InstallationRequest })).ToList();
Func<JsonElement, string?> authorized = p => p.TryGetProperty("idTokenInfo", out var i) && i.GetProperty("status").GetString() is var s && s != "Accepted" ? "idTokenInfo.status " + s : null;
Func<JsonElement, string?> installed = p => p.GetProperty("status").GetString() is var s && s != "Accepted" ? "status " + s : null;

var stations = registered.Stations.Skip(o.Skip).Select((s, i) => new Station(i, s.Id, s.Password)).ToList();
var endpoint = new Uri(cluster.InstanceHttpsUrl(o.Instance).Replace("https://", "wss://", StringComparison.Ordinal) + "/ocpp/");
await using var fleet = new StationFleet(stations, new FleetOptions
{
    Endpoint = endpoint, TlsCa = cluster.TlsCa, SourceAddresses = o.Sources, ConnectConcurrency = o.ConnectConcurrency, RampPerSecond = o.Ramp,
    HeartbeatSeconds = o.Heartbeat, RetryMinimum = TimeSpan.FromSeconds(o.RetryMinimum), RetryRepeatTimes = o.RetryRepeatTimes,
});

await Task.Delay(TimeSpan.FromSeconds(3));
var rssBefore = probe.RssKb();
var heapBefore = await probe.ManagedHeapMbAsync();
log.WriteLine($"service before connecting: RSS {rssBefore / 1024.0:F1} MB, managed heap {Mb(heapBefore)}");

var report = new StringBuilder();
var connectClock = System.Diagnostics.Stopwatch.StartNew();
fleet.Phase = "initial";
await fleet.ConnectAllAsync(TimeSpan.FromSeconds(o.RestartTimeout));
var connectSeconds = connectClock.Elapsed.TotalSeconds;
log.WriteLine($"fleet: {fleet.Booted} of {o.Stations} stations connected and booted in {connectSeconds:F1} s ({o.Sources} source addresses, {o.ConnectConcurrency} at once, ramp {o.Ramp}/s)");

await Task.Delay(TimeSpan.FromSeconds(10));
var rssConnected = probe.RssKb();
var generatorRssMb = Environment.WorkingSet / (1024.0 * 1024);
var heapConnected = await probe.ManagedHeapMbAsync();
var cpuAtRest = await probe.CpuShareAsync(TimeSpan.FromSeconds(o.Quiet));
// Again after the quiet window (with a heartbeat interval shorter than it, after every station has sent a message).
var rssAtRest = probe.RssKb();
var heapAtRest = await probe.ManagedHeapMbAsync();
var booted = fleet.Booted;

double? authorizeP99 = null;
long? rssAfterLoad = null;
if (o.AuthorizeRate > 0 || o.InstallRate > 0)
{
    log.WriteLine($"load: warm-up {o.WarmUp} s, then Authorize {o.AuthorizeRate}/s and Get15118EVCertificate {o.InstallRate}/s for {o.Duration} s");
    // One window of both rate streams; each stream's latencies are recorded under the prefix and its action.
    Task Window(string prefix, int seconds) => Task.WhenAll(
        fleet.RunRateAsync(prefix + "Authorize", "Authorize", o.AuthorizeRate, authorizations, authorized, TimeSpan.FromSeconds(seconds)),
        fleet.RunRateAsync(prefix + "Get15118EVCertificate", "Get15118EVCertificate", o.InstallRate, installations, installed, TimeSpan.FromSeconds(seconds)));
    await Window("warm-up ", o.WarmUp);
    await Window("", o.Duration);
    authorizeP99 = fleet.Measured.Of("Authorize").Percentile(99);
    rssAfterLoad = probe.RssKb();
    // Further windows one after another on the same connected fleet, each reported as it ends: the spread between
    // windows, or a change made to the instance between them (the log line marks when each starts).
    for (var w = 2; w <= o.Windows; w++)
    {
        var prefix = $"window {w} ";
        log.WriteLine($"window {w} of {o.Windows} starts");
        await Window(prefix, o.Duration);
        foreach (var action in new[] { "Authorize", "Get15118EVCertificate" })
            if (fleet.Measured.Of(prefix + action).Count > 0) log.WriteLine($"window {w} {action}: {fleet.Measured.Of(prefix + action).Summary()}");
    }
}

string? restart = null;
if (o.Scenario == "restart")
{
    // kill -9 with every station connected; the cluster's supervisor starts the instance again after 1 s. Authorize keeps
    // coming at its rate across the fleet (10/s at least), from the stations that are booted again.
    using var stopAuthorize = new CancellationTokenSource();
    long killedAt = 0, firstAuthorized = 0, firstBooted = 0;
    fleet.AuthorizeFirstBack(FirstBack, authorizations, authorized);
    fleet.Mark();
    fleet.Phase = "restart";
    var authorize = fleet.RunRateAsync("restart Authorize", "Authorize", Math.Max(10, o.AuthorizeRate), authorizations, authorized,
        TimeSpan.FromSeconds(o.RestartTimeout + 5), at =>
        {
            // Only an answer on a connection made after the kill: one already on its way when the instance died is not a restart's.
            if (Volatile.Read(ref killedAt) > 0 && Volatile.Read(ref fleet.FirstConnectedSinceMark) is var first && first > 0 && at > first)
                Interlocked.CompareExchange(ref firstAuthorized, at, 0);
        }, stopAuthorize.Token);
    await Task.Delay(2000);
    var oldPid = cluster.InstancePid(o.Instance);
    var (machineAtKill, generatorAtKill) = (ServiceProbe.MachineBusySeconds(), Environment.CpuUsage.TotalTime.TotalSeconds);
    Volatile.Write(ref killedAt, Environment.TickCount64);
    cluster.KillInstance(o.Instance);
    log.WriteLine($"restart: killed instance {o.Instance} (pid {oldPid}) with {fleet.Booted} stations booted");
    var deadline = killedAt + o.RestartTimeout * 1000L;
    var lastLog = Environment.TickCount64;
    while (fleet.BootedSinceMark < o.Stations && Environment.TickCount64 < deadline)
    {
        if (firstBooted == 0 && fleet.BootedSinceMark > 0) firstBooted = Environment.TickCount64;
        if (Environment.TickCount64 - lastLog > 5000) { lastLog = Environment.TickCount64; log.WriteLine($"restart: {fleet.BootedSinceMark} booted again after {(lastLog - killedAt) / 1000.0:F0} s"); }
        await Task.Delay(50);
    }
    var allBackMs = fleet.BootedSinceMark >= o.Stations ? Environment.TickCount64 - killedAt : (long?)null;
    // What the machine did meanwhile: with the CPU every station's return cost, the 2 cores cannot bring the fleet back
    // sooner than this floor, nor the service's side alone (instance, PostgreSQL, kernel) on cores of its own.
    var (machine, generator) = (ServiceProbe.MachineBusySeconds() - machineAtKill, Environment.CpuUsage.TotalTime.TotalSeconds - generatorAtKill);
    var instance = probe.CpuSeconds(); // the restarted process's CPU from its start, all of it since the kill
    var back = Math.Max(1, fleet.BootedSinceMark);
    var window = (Environment.TickCount64 - killedAt) / 1000.0;
    var machineLine = $"machine busy from the kill to all back: {machine:F1} CPU-s in {window:F1} s ({machine / window:F2} of {Environment.ProcessorCount} cores); per station back {machine * 1000 / back:F2} ms, the generator's {generator * 1000 / back:F2} ms, the instance's {instance * 1000 / back:F2} ms (its start included), the service's side (instance, PostgreSQL, kernel) {(machine - generator) * 1000 / back:F2} ms (Authorize during the restart included); floor for {o.Stations} on these cores {o.Stations * machine / back / Environment.ProcessorCount:F1} s, {o.Stations * (machine - generator) / back / Environment.ProcessorCount:F1} s without the generator on them";
    await Task.Delay(3000);
    await stopAuthorize.CancelAsync();
    await authorize;
    var newPid = cluster.InstancePid(o.Instance);
    restart = $"""
        restart (kill -9 of instance {o.Instance}, pid {oldPid} -> {newPid}, supervisor restarts it after 1 s):
          all {o.Stations} connected and booted again after: {(allBackMs is { } a ? $"{a / 1000.0:F1} s" : $"not within {o.RestartTimeout} s ({fleet.BootedSinceMark} did)")}
          first station connected again after: {Since(fleet.FirstConnectedSinceMark, killedAt)}, booted again after: {Since(firstBooted, killedAt)}
          the first {FirstBack} stations back, each sending Authorize on being booted again: first Accepted after {Since(fleet.FirstBackAuthorizedAt, killedAt)} ({(fleet.FirstBackAuthorizedAt > 0 && fleet.FirstConnectedSinceMark > 0 ? $"{(fleet.FirstBackAuthorizedAt - fleet.FirstConnectedSinceMark) / 1000.0:F1} s" : "-")} after the first station was connected again); from each one's reconnection to Accepted: {fleet.Measured.Of("first back: reconnection to Authorize Accepted").Summary()}
          first Authorize of the rate stream answered Accepted after: {Since(firstAuthorized, killedAt)} ({(firstAuthorized > 0 && fleet.FirstConnectedSinceMark > 0 ? $"{(firstAuthorized - fleet.FirstConnectedSinceMark) / 1000.0:F1} s" : "-")} after the first station was connected again; the stream visits the fleet in turn and skips a station not booted yet, so it finds the first ones back late)
          {machineLine}
          reconnect (TCP+TLS+upgrade): {fleet.Measured.Of("restart connect (TCP+TLS+upgrade)").Summary()}
          reboot answer: {fleet.Measured.Of("restart boot answer").Summary()}
          Authorize during the restart: {fleet.Measured.Of("restart Authorize").Summary()} ({fleet.NotSentNotBooted} not sent: station not booted)
        """;
}

report.AppendLine($"== station-load: {o.Stations} stations, instance {o.Instance}, {Environment.ProcessorCount} cores shared by the service, PostgreSQL and this generator ==");
report.AppendLine($"connect all: {connectSeconds:F1} s; booted {booted}; boots Accepted {fleet.BootsAccepted}, Pending {fleet.BootsPending}, Rejected {fleet.BootsRejected}");
report.AppendLine($"  connect (TCP+TLS+upgrade): {fleet.Measured.Of("initial connect (TCP+TLS+upgrade)").Summary()}");
report.AppendLine($"  boot answer:               {fleet.Measured.Of("initial boot answer").Summary()}");
report.AppendLine($"  connected and booted:      {fleet.Measured.Of("initial connected and booted").Summary()}");
report.AppendLine($"service memory: RSS {rssBefore / 1024.0:F1} MB before, {rssConnected / 1024.0:F1} MB 10 s after {booted} connected: {(rssConnected - rssBefore) * 1024.0 / Math.Max(1, booted) / 1000:F1} KB per station; managed heap {Mb(heapBefore)} -> {Mb(heapConnected)}");
report.AppendLine($"service memory at rest ({o.Quiet} s later): RSS {rssAtRest / 1024.0:F1} MB: {(rssAtRest - rssBefore) * 1024.0 / Math.Max(1, booted) / 1000:F1} KB per station; managed heap {Mb(heapAtRest)}");
if (rssAfterLoad is { } afterLoad)
    report.AppendLine($"service memory after the load window: RSS {afterLoad / 1024.0:F1} MB: {(afterLoad - rssBefore) * 1024.0 / Math.Max(1, booted) / 1000:F1} KB per station");
report.AppendLine($"generator memory with the fleet connected: RSS {generatorRssMb:F1} MB ({generatorRssMb * 1024 * 1024 / 1000 / Math.Max(1, booted):F1} KB per station)");
report.AppendLine($"service CPU at rest (heartbeats only, {o.Quiet} s window): {cpuAtRest * 100:F2} % of one core");
foreach (var label in new[] { "Authorize", "Get15118EVCertificate", "Heartbeat" })
    if (fleet.Measured.Of(label).Count > 0) report.AppendLine($"{label,-22} {fleet.Measured.Of(label).Summary()}");
if (authorizeP99 != null) report.AppendLine($"Authorize p99 at {o.AuthorizeRate}/s: {authorizeP99:F1} ms");
if (restart != null) report.AppendLine(restart);
report.AppendLine("errors: " + (fleet.Measured.Errors.IsEmpty ? "none" : string.Join("; ", fleet.Measured.Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key} x{e.Value}"))));
if (!fleet.CsmsCalls.IsEmpty) report.AppendLine("CSMS calls answered with CALLERROR: " + string.Join(", ", fleet.CsmsCalls.Select(c => $"{c.Key} x{c.Value}")));
log.Write(report);
return 0;

static string Since(long at, long from) => at > 0 ? $"{(at - from) / 1000.0:F1} s" : "-";

static string Mb(double? mb) => mb is { } v ? $"{v:F1} MB" : "n/a (dotnet-counters not installed)";

/// <summary>The generator's command line.</summary>
internal sealed record Options
{
    public string Home { get; private set; } = "";
    public string Instance { get; private set; } = "a";
    public int Stations { get; private set; } = 100;
    /// <summary>Stations of the registered fleet left to another generator (a second process measures beside a first one).</summary>
    public int Skip { get; private set; }
    public int? Heartbeat { get; private set; }
    public double AuthorizeRate { get; private set; }
    public double InstallRate { get; private set; }
    public int Duration { get; private set; } = 60;
    public string Scenario { get; private set; } = "steady";
    public int Cars { get; private set; } = 4;
    public int Sources { get; private set; } = 8;
    public int ConnectConcurrency { get; private set; } = 200;
    public double Ramp { get; private set; } = 500;
    public int Quiet { get; private set; } = 30;
    public int WarmUp { get; private set; } = 5;
    public int RestartTimeout { get; private set; } = 600;
    public int RegisterConcurrency { get; private set; } = 16;
    public double RetryMinimum { get; private set; } = 1;
    public int RetryRepeatTimes { get; private set; } = 3;
    /// <summary>Load windows of --duration s each, one after another (the first is the one the report's p99 quotes).</summary>
    public int Windows { get; private set; } = 1;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.Parse(value, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--home": o.Home = value; break;
                case "--instance": o.Instance = value; break;
                case "--stations": o.Stations = (int)Number(); break;
                case "--skip": o.Skip = (int)Number(); break;
                case "--heartbeat": o.Heartbeat = (int)Number(); break;
                case "--authorize-rate": o.AuthorizeRate = Number(); break;
                case "--install-rate": o.InstallRate = Number(); break;
                case "--duration": o.Duration = (int)Number(); break;
                case "--scenario": o.Scenario = value is "steady" or "restart" ? value : throw new ArgumentException("--scenario is steady or restart"); break;
                case "--cars": o.Cars = (int)Number(); break;
                case "--sources": o.Sources = (int)Number(); break;
                case "--connect-concurrency": o.ConnectConcurrency = (int)Number(); break;
                case "--ramp": o.Ramp = Number(); break;
                case "--quiet": o.Quiet = (int)Number(); break;
                case "--warm-up": o.WarmUp = (int)Number(); break;
                case "--restart-timeout": o.RestartTimeout = (int)Number(); break;
                case "--register-concurrency": o.RegisterConcurrency = (int)Number(); break;
                case "--retry-minimum": o.RetryMinimum = Number(); break;
                case "--retry-repeat-times": o.RetryRepeatTimes = (int)Number(); break;
                case "--windows": o.Windows = Math.Max(1, (int)Number()); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        if (o.Home.Length == 0) throw new ArgumentException("--home CLUSTER_HOME is required (scripts/station-load.sh passes it)");
        return o;
    }
}
