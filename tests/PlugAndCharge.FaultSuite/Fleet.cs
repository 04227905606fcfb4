using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Tests;

namespace PlugAndCharge.FaultSuite;

/// <summary>
/// The stations: tests/PlugAndCharge.Ocpp.Tests/client/fleet.js, npm ocpp-rpc clients that reconnect by themselves,
/// answer relayed operator commands and send Get15118EVCertificate and Authorize at fixed rates. Its per-second lines
/// go into <see cref="LoadStats"/>; the contracts it was given are appended to <see cref="DeliveredFile"/>.
/// </summary>
public sealed class Fleet : IAsyncDisposable
{
    private readonly Process _node;
    private readonly Task _reader;
    private readonly TaskCompletionSource<int> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string DeliveredFile { get; }

    private Fleet(Process node, string deliveredFile, LoadStats stats, TextWriter log)
    {
        _node = node;
        DeliveredFile = deliveredFile;
        _reader = Task.Run(async () =>
        {
            while (await node.StandardOutput.ReadLineAsync() is { } line)
            {
                var json = JsonNode.Parse(line)!;
                switch (json["type"]?.GetValue<string>())
                {
                    case "connected": _connected.TrySetResult(json["connected"]!.GetValue<int>()); break;
                    case "fatal": log.WriteLine("fleet: " + json["error"]); _connected.TrySetException(new InvalidOperationException("fleet.js failed: " + json["error"])); break;
                    case "second":
                        var second = json["t"]!.GetValue<long>() / 1000;
                        stats.StationsConnected(second, json["connected"]!.GetValue<int>());
                        foreach (var (name, s) in json["streams"]!.AsObject())
                            stats.Merge(name, second, new SecondStats { Sent = s!["sent"]!.GetValue<int>() });
                        // Outcomes count in the second their call went on the wire (fleet.js), which may be long past.
                        foreach (var o in json["outcomes"]!.AsArray())
                        {
                            var one = new SecondStats
                            {
                                Ok = o!["ok"]!.GetValue<int>(), Failed = o["failed"]!.GetValue<int>(), SlowFailed = o["slow_failed"]!.GetValue<int>(),
                                MaxFailMs = o["max_fail_ms"]!.GetValue<double>(), MaxOkMs = o["max_ok_ms"]!.GetValue<double>(),
                            };
                            foreach (var (kind, count) in o["kinds"]!.AsObject()) one.Kinds[kind] = count!.GetValue<int>();
                            stats.Merge(o["stream"]!.GetValue<string>(), o["t"]!.GetValue<long>() / 1000, one);
                        }
                        break;
                }
            }
            _connected.TrySetException(new InvalidOperationException("fleet.js ended: " + await node.StandardError.ReadToEndAsync()));
        });
    }

    public static async Task<Fleet> StartAsync(ClusterControl cluster, World world, double installRate, double authorizeRate, string workDir, LoadStats stats, TextWriter log)
    {
        var dir = Path.Combine(TestPaths.RepoRoot, "tests", "PlugAndCharge.Ocpp.Tests", "client");
        var delivered = Path.Combine(workDir, "delivered-ocpp.txt");
        File.Delete(delivered); // a run checks only what it delivered itself
        var config = new
        {
            endpoint = "wss" + cluster.ParticipantUrl[5..] + "/ocpp", ca = cluster.TlsCa.ExportCertificatePem(), password = world.StationPassword, protocol = "ocpp2.0.1",
            ids = world.StationIds, connectConcurrency = 10, deliveredFile = delivered, failFastMs = LoadStats.FailFastMs,
            streams = new object[]
            {
                new
                {
                    name = "OCPP Get15118EVCertificate", method = "Get15118EVCertificate", rate = installRate, ok = new[] { new[] { "status", "Accepted" } },
                    paramsList = world.Cars.Select(c => new { iso15118SchemaVersion = "urn:iso:15118:2:2013:MsgDef", action = "Install", exiRequest = Convert.ToBase64String(c.InstallationRequest) }),
                },
                new
                {
                    name = "OCPP Authorize", method = "Authorize", rate = authorizeRate, ok = new[] { new[] { "idTokenInfo.status", "Accepted" } },
                    paramsList = world.Cars.Select(c => new { idToken = new { idToken = c.Emaid, type = "eMAID" }, certificate = c.ChainPem }),
                },
            },
        };
        var file = Path.Combine(workDir, "fleet.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(config));
        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("fleet.js");
        psi.ArgumentList.Add(file);
        var fleet = new Fleet(Process.Start(psi)!, delivered, stats, log);
        var connected = await fleet._connected.Task.WaitAsync(TimeSpan.FromSeconds(120));
        log.WriteLine($"fleet: {connected} of {world.StationIds.Count} stations connected (ocpp-rpc, TLS + basic auth, through HAProxy)");
        return fleet;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _node.StandardInput.WriteLineAsync("stop");
            await _node.StandardInput.FlushAsync();
            await _node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
        }
        catch (Exception) { _node.Kill(entireProcessTree: true); }
        await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _node.Dispose();
    }
}
