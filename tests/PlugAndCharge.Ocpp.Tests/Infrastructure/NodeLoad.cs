using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>Runs client/load.js (many ocpp-rpc stations at fixed rates) with a configuration and reads its JSON report.</summary>
public static class NodeLoad
{
    public static async Task<JsonElement> RunAsync(object config, TimeSpan timeout, ITestOutputHelper output)
    {
        var path = Path.Combine(Path.GetTempPath(), "pnc-load-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(config));
        string text;
        try
        {
            var psi = new ProcessStartInfo("node", ["load.js", path]) { WorkingDirectory = NodeStation.ClientDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
            using var node = Process.Start(psi)!;
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try { await node.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { node.Kill(true); throw new TimeoutException("load.js did not finish: " + await stderr); }
            text = await stdout;
        }
        finally
        {
            File.Delete(path);
        }
        output.WriteLine(text);
        if (Environment.GetEnvironmentVariable("PNC_OCPP_LOAD_REPORT") is { Length: > 0 } reportPath) await File.WriteAllTextAsync(reportPath, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Every station connected and every call of every phase answered as expected.</summary>
    public static void AssertClean(JsonElement report, int stations)
    {
        Assert.False(report.TryGetProperty("fatal", out _), report.ToString());
        Assert.Equal(stations, report.GetProperty("connected").GetInt32());
        Assert.Equal(stations, report.GetProperty("still_connected").GetInt32());
        foreach (var phase in report.GetProperty("phases").EnumerateArray())
        {
            Assert.Equal(0, phase.GetProperty("errors").GetInt32());
            Assert.Equal(phase.GetProperty("sent").GetInt32(), phase.GetProperty("ok").GetInt32());
        }
    }

    public static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
}
