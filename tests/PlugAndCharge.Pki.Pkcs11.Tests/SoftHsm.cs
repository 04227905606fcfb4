using System.Diagnostics;
using System.Runtime.InteropServices;
using PlugAndCharge.Pki.Pkcs11;

namespace PlugAndCharge.Pki.Pkcs11.Tests;

/// <summary>
/// A SoftHSM2 token folder of this test run inside the build output, initialized with softhsm2-util before the module
/// is first loaded (SoftHSM reads its token folder at C_Initialize). scripts/softhsm.sh installs SoftHSM2.
/// </summary>
internal static partial class SoftHsm
{
    public const string Token = "pnc";
    public const string WrongPinToken = "pnc-wrong-pin";
    public const string UserPin = "4711-test-pin";
    private const string SoPin = "so-12345678";

    private static readonly Lazy<string> Ready = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Path of the SoftHSM2 module, once the token folder is set up.</summary>
    public static string ModulePath => Ready.Value;

    public static Pkcs11Options Options(string? pin = null, int? maxSessions = null) => new()
    {
        ModulePath = ModulePath,
        Pin = _ => pin ?? UserPin,
        MaxSessionsPerToken = maxSessions ?? 8,
    };

    public static Pkcs11KeyProvider Provider(string? pin = null) => new(Options(pin));

    /// <summary>A fresh object label, so runs and tests never collide on the shared token.</summary>
    public static string NewLabel(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];

    private static string Initialize()
    {
        var module = FindModule() ?? throw new InvalidOperationException(
            "SoftHSM2 is not installed (libsofthsm2.so not found): run `bash scripts/softhsm.sh` (apt-get install -y softhsm2).");
        var root = Path.Combine(AppContext.BaseDirectory, "softhsm", $"run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28]);
        var tokens = Path.Combine(root, "tokens");
        Directory.CreateDirectory(tokens);
        var conf = Path.Combine(root, "softhsm2.conf");
        File.WriteAllText(conf, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        RemoveOldRuns(Path.GetDirectoryName(root)!, root);
        // SoftHSM reads SOFTHSM2_CONF with getenv() in C_Initialize; .NET's Environment.SetEnvironmentVariable does
        // not change the native environment on Unix, so set it there too.
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", conf);
        if (setenv("SOFTHSM2_CONF", conf, 1) != 0) throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed.");
        foreach (var label in new[] { Token, WrongPinToken })
            Run(conf, "--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", UserPin);
        return module;
    }

    private static string? FindModule()
    {
        var configured = Environment.GetEnvironmentVariable("PNC_PKCS11_MODULE");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured)) return configured;
        return new[] { "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so" }
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Token folders of earlier runs (a day old) are removed; concurrent runs keep theirs.</summary>
    private static void RemoveOldRuns(string parent, string current)
    {
        foreach (var dir in Directory.EnumerateDirectories(parent, "run-*"))
            if (dir != current && Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddDays(-1))
                try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Run(string conf, params string[] args)
    {
        var psi = new ProcessStartInfo("softhsm2-util") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["SOFTHSM2_CONF"] = conf;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new TimeoutException("softhsm2-util hung"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"softhsm2-util {args[0]} failed: {output.Result}{error.Result}");
    }

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
