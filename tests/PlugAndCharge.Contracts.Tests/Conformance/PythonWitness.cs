using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PlugAndCharge.Contracts.Tests.Conformance;

/// <summary>
/// Runs tests/witness/iso15118_witness.py, the EVCC-side implementation of contract key delivery written in Python from
/// the standard's text alone (python3-cryptography from Debian). One JSON object in, one out.
/// </summary>
internal static class PythonWitness
{
    private static readonly Lazy<string?> Missing = new(EnsureInstalled);

    /// <summary>The witness's answer; <c>error</c> is set when it refused the input as the text would.</summary>
    public static JsonObject Run(JsonObject request)
    {
        if (Missing.Value is { } why) throw new Xunit.Sdk.XunitException(why);
        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tests", "witness", "iso15118_witness.py"));
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(request.ToJsonString());
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new TimeoutException("the Python witness hung"); }
        if (p.ExitCode is not (0 or 2)) throw new Xunit.Sdk.XunitException($"the Python witness failed ({p.ExitCode}): {stderr.Result}");
        return JsonNode.Parse(stdout.Result)!.AsObject();
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    /// <summary>python3 with the cryptography package, installed through scripts/apt-install.sh when absent; else one line saying why not.</summary>
    private static string? EnsureInstalled()
    {
        if (Probe()) return null;
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "scripts", "apt-install.sh"));
        psi.ArgumentList.Add("python3-cryptography");
        using (var p = Process.Start(psi)!)
        {
            var err = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(600_000)) p.Kill();
            if (Probe()) return null;
            return "The Python witness needs python3 with python3-cryptography and scripts/apt-install.sh could not install it: " + err.Result.Trim();
        }
    }

    private static bool Probe()
    {
        try
        {
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import cryptography.hazmat.primitives.ciphers.aead");
            using var p = Process.Start(psi)!;
            if (!p.WaitForExit(30_000)) { p.Kill(); return false; }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    public static string Hex(JsonObject answer, string field) =>
        answer[field]?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException("the witness refused: " + answer.ToJsonString(new JsonSerializerOptions()));
}
