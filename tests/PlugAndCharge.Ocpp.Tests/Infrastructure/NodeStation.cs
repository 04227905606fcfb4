using System.Diagnostics;
using System.Text.Json;
using PlugAndCharge.Tests;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>
/// A charging station played by the npm package ocpp-rpc (client/station.js). Installs the client's packages from its
/// lock file on first use (npm ci), so a fresh checkout needs only node and npm.
/// </summary>
public sealed class NodeStation : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool _installed;
    private readonly Process _process;
    private readonly string _configPath;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public static string ClientDirectory { get; } = Path.Combine(TestPaths.RepoRoot, "tests", "PlugAndCharge.Ocpp.Tests", "client");

    private NodeStation(Process process, string configPath)
    {
        _process = process;
        _configPath = configPath;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = ReadErrorsAsync(process.StandardError);
    }

    private readonly System.Text.StringBuilder _errors = new();
    private readonly List<(string Line, TaskCompletionSource Seen)> _awaited = [];

    /// <summary>Collects stderr line by line, so a test can wait for a <c>{ signal }</c> step of the script.</summary>
    private async Task<string> ReadErrorsAsync(StreamReader stderr)
    {
        while (await stderr.ReadLineAsync() is { } line)
            lock (_errors)
            {
                _errors.AppendLine(line);
                foreach (var (awaited, seen) in _awaited) if (awaited == line) seen.TrySetResult();
            }
        lock (_errors) return _errors.ToString();
    }

    /// <summary>Waits until the script has run its <c>{ "signal": name }</c> step.</summary>
    public async Task WaitForSignalAsync(string name, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_errors)
        {
            if (_errors.ToString().Split('\n').Any(l => l.TrimEnd('\r') == "SIGNAL " + name)) return;
            _awaited.Add(("SIGNAL " + name, seen));
        }
        var finished = await Task.WhenAny(seen.Task, _stderr, Task.Delay(timeout ?? TimeSpan.FromSeconds(30)));
        if (finished != seen.Task)
            throw new TimeoutException($"The node station did not signal '{name}'. stderr: {(finished == _stderr ? await _stderr : "")} stdout: {(_stdout.IsCompleted ? await _stdout : "")}");
    }

    public static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (_installed || Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "ocpp-rpc"))) { _installed = true; return; }
            var psi = new ProcessStartInfo("npm", "ci --no-audit --no-fund --loglevel=error") { WorkingDirectory = ClientDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
            using var npm = Process.Start(psi)!;
            var err = npm.StandardError.ReadToEndAsync();
            await npm.StandardOutput.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0) throw new InvalidOperationException("npm ci failed in " + ClientDirectory + ": " + await err);
            _installed = true;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Starts the station; with holdUntilStdinEnds it stays connected until <see cref="FinishAsync"/>.</summary>
    public static async Task<NodeStation> StartAsync(object config)
    {
        await EnsureInstalledAsync();
        var path = Path.Combine(Path.GetTempPath(), "pnc-station-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(config));
        var psi = new ProcessStartInfo("node", ["station.js", path])
        {
            WorkingDirectory = ClientDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        return new NodeStation(Process.Start(psi)!, path);
    }

    /// <summary>Runs a station script to its end and returns what it printed.</summary>
    public static async Task<StationRun> RunAsync(object config)
    {
        await using var station = await StartAsync(config);
        return await station.FinishAsync();
    }

    /// <summary>Lets a holding station disconnect, waits for it and reads its report.</summary>
    public async Task<StationRun> FinishAsync(TimeSpan? timeout = null)
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("The node station did not finish: " + await _stderr);
        }
        var text = await _stdout;
        try
        {
            return new StationRun(JsonDocument.Parse(text).RootElement.Clone(), await _stderr);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"The node station printed no report. stdout: {text} stderr: {await _stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        File.Delete(_configPath);
    }
}

/// <summary>The report of station.js.</summary>
public sealed record StationRun(JsonElement Report, string Log)
{
    public bool Connected => Report.GetProperty("connected").GetBoolean();
    public string? Protocol => Report.GetProperty("protocol").GetString();
    public int? RefusedWithStatus => Report.TryGetProperty("error", out var e) && e.GetProperty("status").ValueKind == JsonValueKind.Number ? e.GetProperty("status").GetInt32() : null;
    public JsonElement Result(int index) => Report.GetProperty("results")[index];
    public IReadOnlyList<JsonElement> Results => Report.GetProperty("results").EnumerateArray().ToList();
    public IReadOnlyList<JsonElement> Received(string method) =>
        Report.GetProperty("received").EnumerateArray().Where(r => r.GetProperty("method").GetString() == method).Select(r => r.GetProperty("params")).ToList();

    /// <summary>The CALLRESULT payload of step <paramref name="index"/>; fails the test when it was a CALLERROR.</summary>
    public JsonElement Ok(int index)
    {
        var r = Result(index);
        if (!r.GetProperty("ok").GetBoolean()) throw new Xunit.Sdk.XunitException($"step {index} failed: {r}");
        return r.GetProperty("result");
    }

    /// <summary>The CALLERROR code of step <paramref name="index"/>.</summary>
    public string? ErrorCode(int index)
    {
        var r = Result(index);
        return r.GetProperty("ok").GetBoolean() ? null : r.GetProperty("code").GetString();
    }

    public override string ToString() => Report.ToString();
}
