using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PlugAndCharge.FaultSuite;

// The fault-injection suite of issue 22 against a running scripts/cluster.sh cluster (scripts/faults.sh starts one):
//   faults  --cluster-home DIR --pnc PNC --out DIR   steady load, the faults one at a time, the table (exit 1 if a row fails)
//   throughput --cluster-home DIR                    installations/s through one instance and through HAProxy to two
var mode = args.Length > 0 ? args[0] : "faults";
string Arg(string name, string? fallback = null) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback ?? throw new ArgumentException($"{name} is required");
double Setting(string name, double fallback) =>
    double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;
// PNC_FAULTS_SCALE scales every default rate (the issue's load is 1; the test command runs 0.3, see docs/operator-guide.md §7).
var scale = Setting("PNC_FAULTS_SCALE", 1);
double Rate(string name, double issueRate) => Setting(name, issueRate * scale);

var cluster = new ClusterControl(Arg("--cluster-home"));
var log = Console.Error;
var stats = new LoadStats();
using var receiver = new WebhookReceiver();
var world = await Setup.RunAsync(cluster, cars: (int)Setting("PNC_FAULTS_CARS", 8), stations: (int)Setting("PNC_FAULTS_STATIONS", 40), receiver.Url, log);

if (mode == "throughput") return await Throughput.RunAsync(cluster, world, (int)Setting("PNC_FAULTS_THROUGHPUT_SECONDS", 20), (int)Setting("PNC_FAULTS_THROUGHPUT_CALLERS", 64), (int)Setting("PNC_FAULTS_THROUGHPUT_ROUNDS", 2), log);

var outDir = Arg("--out");
Directory.CreateDirectory(outDir);
var invariants = new Invariants(cluster, Arg("--pnc"));
const string Iso2 = "urn:iso:15118:2:2013:MsgDef";

// The steady load of issue 22 (rates per second; PNC_FAULTS_* override): installations half over OCPP and half over
// the CCP, Authorize over OCPP, OCSP, and the operator's traffic: CRL downloads, station commands, certificate renewals.
var installRate = Rate("PNC_FAULTS_INSTALL_RATE", 300);
var ocsp = world.Cars.Select(Setup.OcspRequest).ToList();
var crl = Setup.CrlPath(world.Cars[0]);
using var stop = new CancellationTokenSource();
var httpStreams = new List<HttpStream>
{
    new("CCP installation", installRate / 2, world.Cpo, async (c, i, ct) =>
    {
        var car = world.Cars[(int)(i % world.Cars.Count)];
        using var r = await c.PostAsJsonAsync("/v1/ccp/signedContractData", new { certificateInstallationReq = Convert.ToBase64String(car.InstallationRequest), xsdMsgDefNamespace = Iso2 }, ct);
        if (!r.IsSuccessStatusCode) return await HttpStream.FailureOf(r);
        var content = JsonNode.Parse(await r.Content.ReadAsStringAsync(ct))!["CCPResponse"]!["emaidContent"]![0]!["messageDef"]!;
        if (content["metaData"] is { } meta) return "signed FAILED: " + meta.GetValue<string>().Split(':')[0];
        invariants.DeliveredByCcp.Enqueue(content["certificateInstallationRes"]!.GetValue<string>());
        return null;
    }, stats),
    new("OCSP", Rate("PNC_FAULTS_OCSP_RATE", 1000), world.Public, async (c, i, ct) =>
    {
        var (url, body) = ocsp[(int)(i % ocsp.Count)];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var r = await c.PostAsync(url, content, ct);
        if (!r.IsSuccessStatusCode) return await HttpStream.FailureOf(r);
        // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... } (RFC 6960 §4.2.1): read the status without
        // parsing the rest, so the load generator stays cheap beside the service.
        var der = await r.Content.ReadAsByteArrayAsync(ct);
        var at = der.Length > 1 && der[1] >= 0x80 ? 2 + (der[1] & 0x7f) : 2;
        return der.Length > at + 2 && der[0] == 0x30 && der[at] == 0x0a && der[at + 1] == 1 ? (der[at + 2] == 0 ? null : "OCSP status " + der[at + 2]) : "not an OCSP response";
    }, stats),
    new("CRL", Rate("PNC_FAULTS_CRL_RATE", 5), world.Public, async (c, _, ct) =>
    {
        using var r = await c.GetAsync(crl, ct);
        return r.IsSuccessStatusCode ? null : await HttpStream.FailureOf(r);
    }, stats),
    new("station command", Rate("PNC_FAULTS_COMMAND_RATE", 5), world.Cpo, async (c, i, ct) =>
    {
        // GetInstalledCertificateIds relayed to whichever instance holds the station's WebSocket.
        using var r = await c.GetAsync($"/v1/ocpp/stations/{world.StationIds[(int)(i * 7 % world.StationIds.Count)]}/certificates", ct);
        return r.IsSuccessStatusCode ? null : await HttpStream.FailureOf(r);
    }, stats),
    new("contract renewal", Rate("PNC_FAULTS_RENEW_RATE", 5), world.Emsp, async (c, i, ct) =>
    {
        using var r = await c.PostAsync($"/v1/contracts/{world.Cars[(int)(i % world.Cars.Count)].Emaid}/certificate", null, ct);
        if (!r.IsSuccessStatusCode) return await HttpStream.FailureOf(r);
        invariants.AcknowledgedRenewals.Enqueue(JsonNode.Parse(await r.Content.ReadAsStringAsync(ct))!["certificate"]!["serial"]!.GetValue<string>());
        return null;
    }, stats),
};
await using var fleet = await Fleet.StartAsync(cluster, world, installRate / 2, Rate("PNC_FAULTS_AUTHORIZE_RATE", 300), outDir, stats, log);
var running = httpStreams.Select(s => Task.Run(() => s.RunAsync(stop.Token))).ToList();
var streamNames = httpStreams.Select(s => s.Name).Concat(["OCPP Get15118EVCertificate", "OCPP Authorize"]).ToList();
log.WriteLine($"load: {string.Join(", ", streamNames)}; warming up 10 s, then 10 s before the first fault");
await Task.Delay(10_000);
var warm = (From: DateTimeOffset.UtcNow.ToUnixTimeSeconds(), To: DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 10);
await Task.Delay(10_000);
log.WriteLine("steady: " + string.Join(", ", streamNames.Select(n => (n, s: stats.Sum(warm.From, warm.To, n))).Select(x => $"{x.n} {x.s.Ok}/{x.s.Sent} ok")));

var faults = (Environment.GetEnvironmentVariable("PNC_FAULTS") ?? string.Join(',', FaultRows.All)).Split(',', StringSplitOptions.RemoveEmptyEntries);
if (cluster.Standby == null) faults = faults.Where(f => f != "failover").ToArray();
var rows = new FaultRows(cluster, stats, () => streamNames, world.StationIds.Count, log)
{
    LockSeconds = (int)Setting("PNC_FAULTS_LOCK_SECONDS", 60), PartitionSeconds = (int)Setting("PNC_FAULTS_PARTITION_SECONDS", 20),
    LockedEmaids = world.Cars.Select(c => c.Emaid).ToList(),
};
var results = new List<RowResult>();
var loadStart = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
foreach (var fault in faults)
{
    log.WriteLine($"--- {fault}");
    var row = await rows.RunAsync(fault);
    try { row.Checks.AddRange(await invariants.CheckAsync(fleet.DeliveredFile)); }
    catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
    {
        // The row is reported with what stopped the checks instead of the suite ending without its table.
        row.Checks.Add(new Check("invariants read", false, $"could not read the database after the fault: {e.GetType().Name}: {e.Message}"));
    }
    results.Add(row);
    log.WriteLine($"{fault}: {(row.Passed ? "passed" : "FAILED")}: " + string.Join("; ", row.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
}
stop.Cancel();
await Task.WhenAll(running);
var loadEnd = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
var webhooks = await invariants.WebhooksAsync(world.WebhookEndpointId, receiver, TimeSpan.FromSeconds(60));

// The table (markdown), also written to OUT/faults.md and OUT/faults.json.
var md = new StringBuilder();
md.AppendLine(CultureInfo.InvariantCulture, $"Load through HAProxy, offered (answered well) per second over the whole run: {string.Join(", ", streamNames.Select(n => stats.Sum(loadStart, loadEnd, n)).Zip(streamNames, (s, n) => $"{n} {s.Sent / Math.Max(1.0, loadEnd - loadStart):0} ({s.Ok / Math.Max(1.0, loadEnd - loadStart):0})"))}; {world.StationIds.Count} stations, {world.Cars.Count} cars.");
md.AppendLine(CultureInfo.InvariantCulture, $"Before the faults ({warm.To - warm.From} s): {string.Join(", ", streamNames.Select(n => (n, s: stats.Sum(warm.From, warm.To, n))).Select(x => $"{x.n} {x.s.Ok}/{x.s.Sent} ok, slowest {x.s.MaxOkMs:0} ms"))}.");
md.AppendLine();
md.AppendLine("| fault | requests sent | failed | failed > 1 s | recovery | invariants and checks | result |");
md.AppendLine("|---|---:|---:|---:|---|---|---|");
foreach (var r in results)
{
    var recovery = (r.RecoverySeconds is { } s ? $"{s:0} s after {r.RecoveredFrom}" : "not within 90 s") + (r.ReconnectSeconds is { } rc ? $"; stations back in {rc:0} s" : "");
    md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Fault} | {r.Sent} | {r.Failed} | {r.SlowFailed} | {recovery} | {string.Join("; ", r.Checks.Select(c => $"{(c.Passed ? "✔" : "✘")} {c.Name} ({c.Detail})"))} | {(r.Passed ? "passed" : "FAILED")} |");
}
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"After the run: {(webhooks.Passed ? "✔" : "✘")} {webhooks.Name} ({webhooks.Detail}).");
md.AppendLine();
md.AppendLine("Failures by stream and kind:");
foreach (var r in results) md.AppendLine(CultureInfo.InvariantCulture, $"- {r.Fault}: {(r.Failures.Length == 0 ? "none" : r.Failures)}");
Console.WriteLine(md.ToString());
await File.WriteAllTextAsync(Path.Combine(outDir, "faults.md"), md.ToString());
await File.WriteAllTextAsync(Path.Combine(outDir, "faults.json"), JsonSerializer.Serialize(new { rows = results.Select(r => new { r.Fault, r.Sent, r.Failed, r.SlowFailed, r.RecoverySeconds, r.ReconnectSeconds, r.Passed, checks = r.Checks }), webhooks }, new JsonSerializerOptions { IncludeFields = true, WriteIndented = true }));
var passed = results.Count(r => r.Passed) + (webhooks.Passed ? 1 : 0);
Console.WriteLine($"faults: {passed} passed, {results.Count + 1 - passed} failed");
return passed == results.Count + 1 ? 0 : 1;
