using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace PlugAndCharge.StationLoad;

/// <summary>
/// What the instance under load costs, read from outside: resident memory (VmRSS of /proc/PID/status), CPU time
/// (utime + stime of /proc/PID/stat, clock ticks of 10 ms) and the managed heap (dotnet-counters, when installed).
/// </summary>
public sealed class ServiceProbe(Func<int> pid)
{

    public long RssKb()
    {
        foreach (var line in File.ReadLines($"/proc/{pid()}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS in /proc/PID/status");
    }

    /// <summary>CPU seconds (user + system) the process has used so far.</summary>
    public double CpuSeconds() => PlugAndCharge.FaultSuite.ClusterControl.CpuTime([pid()]).TotalSeconds;

    /// <summary>
    /// The whole machine's busy CPU seconds so far (user, nice, system, irq and softirq of /proc/stat's first line, clock
    /// ticks of 10 ms; idle, iowait and the host's steal are not the machine's work).
    /// </summary>
    public static double MachineBusySeconds()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        return (Field(1) + Field(2) + Field(3) + Field(6) + Field(7)) / 100.0;
    }

    /// <summary>CPU used over a window, as a share of one core.</summary>
    public async Task<double> CpuShareAsync(TimeSpan window)
    {
        var (c0, t0) = (CpuSeconds(), Stopwatch.GetTimestamp());
        await Task.Delay(window);
        return (CpuSeconds() - c0) / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>
    /// The GC heap after the last collection, in MB, from the runtime's own counters (dotnet-counters collect over the
    /// diagnostics port, a few seconds); null when dotnet-counters is not installed or reports nothing.
    /// </summary>
    public async Task<double?> ManagedHeapMbAsync()
    {
        var tool = new[] { Environment.GetEnvironmentVariable("DOTNET_COUNTERS"), Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-counters") }
            .FirstOrDefault(File.Exists);
        if (tool == null) return null;
        var file = Path.Combine(Path.GetTempPath(), $"station-load-counters-{Environment.ProcessId}.json");
        try
        {
            var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "collect", "-p", pid().ToString(CultureInfo.InvariantCulture), "--counters", "System.Runtime", "--format", "json", "-o", file, "--duration", "00:00:05" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (!File.Exists(file)) return null;
            var events = JsonNode.Parse(await File.ReadAllTextAsync(file))?["Events"]?.AsArray();
            if (events == null) return null;
            // .NET 9+ names: dotnet.gc.last_collection.heap.size (bytes, one value per generation); older: "GC Heap Size (MB)".
            var bytes = events.Where(e => e?["name"]?.GetValue<string>().StartsWith("dotnet.gc.last_collection.heap.size", StringComparison.Ordinal) == true).ToList();
            if (bytes.Count > 0) // the last value of each generation
                return bytes.GroupBy(e => e!["tags"]?.ToString()).Sum(g => g.Last()!["value"]!.GetValue<double>()) / (1024 * 1024);
            var mb = events.LastOrDefault(e => e?["name"]?.GetValue<string>().StartsWith("GC Heap Size", StringComparison.Ordinal) == true);
            return mb?["value"]?.GetValue<double>();
        }
        catch (Exception) { return null; }
        finally { File.Delete(file); }
    }
}
