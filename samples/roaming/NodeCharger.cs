using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PlugAndCharge.Samples.Roaming;

/// <summary>The charger refused or failed a call (an OCPP CALLERROR, a timeout, a lost connection).</summary>
public sealed class ChargerCallException(string code, string message) : Exception($"{code}: {message}")
{
    public string Code { get; } = code;
}

/// <summary>
/// The CPO's charging station: the npm OCPP-J client ocpp-rpc in a node process (charger/charger.js), driven over
/// stdin/stdout one JSON line per call, so every message the scenario shows really crosses an OCPP WebSocket.
/// </summary>
public sealed class NodeCharger : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly TaskCompletionSource<JsonObject> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextId;

    public string StationId { get; }
    public string? Protocol { get; private set; }
    /// <summary>Calls the CSMS made to the station (answered Accepted).</summary>
    public ConcurrentQueue<(string Method, JsonNode? Params)> Received { get; } = new();

    private NodeCharger(Process process, string stationId)
    {
        _process = process;
        StationId = stationId;
    }

    /// <summary>The folder with charger.js and its node_modules (installed by scripts/npm-ci.sh).</summary>
    public static string ChargerDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "roaming", "charger");
                if (File.Exists(Path.Combine(candidate, "charger.js"))) return candidate;
            }
        throw new FileNotFoundException("samples/roaming/charger/charger.js not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Starts the station and connects it (OCPP security profile 2: TLS and HTTP basic auth) to <paramref name="ocppUrl"/>.</summary>
    public static async Task<NodeCharger> ConnectAsync(string ocppUrl, string stationId, string password, string caPem, string protocol = "ocpp2.0.1", CancellationToken ct = default)
    {
        var dir = ChargerDirectory();
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "ocpp-rpc")))
            throw new InvalidOperationException($"The charger's OCPP client is not installed: run scripts/npm-ci.sh {dir} (the README commands do).");
        var config = JsonSerializer.Serialize(new { endpoint = ocppUrl, identity = stationId, protocol, password, ca = caPem });
        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("charger.js");
        psi.ArgumentList.Add(config);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("node could not be started.");
        var charger = new NodeCharger(process, stationId);
        _ = Task.Run(charger.ReadLoopAsync, CancellationToken.None);
        _ = Task.Run(async () => await process.StandardError.ReadToEndAsync(CancellationToken.None), CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var connected = await charger._connected.Task.WaitAsync(timeout.Token);
            charger.Protocol = connected["protocol"]?.GetValue<string>();
            return charger;
        }
        catch
        {
            await charger.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends a CALL and waits for its CALLRESULT; a CALLERROR throws <see cref="ChargerCallException"/>.</summary>
    public async Task<JsonNode> CallAsync(string action, object payload, CancellationToken ct = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { id, call = action, @params = payload }).AsMemory(), ct);
        await _process.StandardInput.FlushAsync(ct);
        var reply = await answer.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        if (reply["ok"]?.GetValue<bool>() == true) return reply["result"] ?? new JsonObject();
        throw new ChargerCallException(reply["code"]?.ToString() ?? "Error", reply["message"]?.ToString() ?? "");
    }

    private async Task ReadLoopAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            JsonObject? msg;
            try { msg = JsonNode.Parse(line) as JsonObject; } catch (JsonException) { continue; }
            if (msg == null) continue;
            switch (msg["event"]?.GetValue<string>())
            {
                case "connected": _connected.TrySetResult(msg); break;
                case "failed": _connected.TrySetException(new ChargerCallException("ConnectFailed", $"{msg["message"]} (HTTP {msg["status"]})")); break;
                case "received": Received.Enqueue((msg["method"]?.GetValue<string>() ?? "", msg["params"]?.DeepClone())); break;
                default:
                    if (msg["id"]?.GetValue<int>() is { } id && _pending.TryRemove(id, out var pending)) pending.TrySetResult(msg);
                    break;
            }
        }
        _connected.TrySetException(new ChargerCallException("Exited", "the charger process ended"));
        foreach (var p in _pending.Values) p.TrySetException(new ChargerCallException("Exited", "the charger process ended"));
    }

    /// <summary>Closes stdin: the station closes its WebSocket (1000) and the process ends.</summary>
    public async ValueTask DisposeAsync()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        _process.Dispose();
    }
}
