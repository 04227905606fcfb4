using System.Diagnostics;
using System.Runtime.InteropServices;
using PlugAndCharge.Pki.Pkcs11;

namespace PlugAndCharge.Benchmarks.Keys;

/// <summary>
/// A SoftHSM2 token for the benchmark process: a token folder under the temp directory, SOFTHSM2_CONF set in the
/// native environment before the module loads, one token initialized with softhsm2-util (scripts/softhsm.sh installs it).
/// </summary>
internal static class BenchSoftHsm
{
    public const string Token = "pnc-bench";
    private const string Pin = "bench-pin-1234";

    private static readonly Lazy<Pkcs11Options> Ready = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    public static Pkcs11Options Options => Ready.Value;

    private static Pkcs11Options Initialize()
    {
        var module = Environment.GetEnvironmentVariable("PNC_PKCS11_MODULE") is { Length: > 0 } m && File.Exists(m) ? m
            : new[] { "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("SoftHSM2 is not installed: run `bash scripts/softhsm.sh`.");
        var root = Path.Combine(Path.GetTempPath(), $"pnc-bench-softhsm-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(root, "tokens"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, true); } catch (IOException) { } };
        var conf = Path.Combine(root, "softhsm2.conf");
        File.WriteAllText(conf, $"directories.tokendir = {Path.Combine(root, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", conf);
        if (setenv("SOFTHSM2_CONF", conf, 1) != 0) throw new InvalidOperationException("setenv failed");
        var psi = new ProcessStartInfo("softhsm2-util") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--init-token", "--free", "--label", Token, "--so-pin", "so-bench-1234", "--pin", Pin }) psi.ArgumentList.Add(a);
        psi.Environment["SOFTHSM2_CONF"] = conf;
        using (var p = Process.Start(psi)!)
        {
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("softhsm2-util --init-token failed: " + p.StandardError.ReadToEnd());
        }
        return new Pkcs11Options { ModulePath = module, Pin = _ => Pin, MaxSessionsPerToken = 16 };
    }

    // DllImport rather than LibraryImport: the benchmark project does not allow unsafe code. Strings marshal as UTF-8 on Unix.
    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int setenv(string name, string value, int overwrite);
}
