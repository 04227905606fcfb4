using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace PlugAndCharge.Server.Tests.Scenario;

/// <summary>
/// The README's first command itself: ./run.sh starts `pnc up` (its own PostgreSQL, the development PKI, the admin
/// credential), plays the roaming sample against it, and on SIGTERM stops the sample, the service and the database.
/// </summary>
public sealed class RunScriptTests
{
    [DllImport("libc.so.6", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public async Task Run_script_plays_the_roaming_session_and_stops_everything_on_sigterm()
    {
        var home = OpenSsl.TempDir();
        var (http, https) = (Hosting.ServiceFixture.FreePort(), Hosting.ServiceFixture.FreePort());
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in new[] { "run.sh", "--urls", $"http://127.0.0.1:{http}", "--https-urls", $"https://127.0.0.1:{https}" }) psi.ArgumentList.Add(a);
        psi.Environment["PNC_HOME"] = home;
        foreach (var v in new[] { "PNC_DATABASE", "PNC_TLS_CERT", "PNC_TLS_KEY", "PNC_OCPI_BASE_URL", "PNC_PUBLIC_URL", "PNC_KEY_PASSPHRASE", "PNC_OUTBOUND_ALLOW" })
            psi.Environment.Remove(v);
        using var script = Process.Start(psi)!;
        var output = new StringBuilder();
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(string? line)
        {
            if (line == null) return;
            lock (output) output.AppendLine(line);
            if (line.StartsWith("Done: ", StringComparison.Ordinal)) done.TrySetResult(line);
        }
        script.OutputDataReceived += (_, e) => Read(e.Data);
        script.ErrorDataReceived += (_, e) => Read(e.Data);
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        try
        {
            var finished = await Task.WhenAny(done.Task, script.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(4)));
            string log;
            lock (output) log = output.ToString();
            Assert.True(finished == done.Task, "run.sh did not play the session:\n" + Tail(log));
            var summary = await done.Task;
            Assert.Contains("eMSP said ALLOWED", summary, StringComparison.Ordinal);
            Assert.Contains("Blocked/CertificateRevoked", summary, StringComparison.Ordinal);
            Assert.Contains("PlugAndCharge is running:", log, StringComparison.Ordinal);

            Assert.Equal(0, Kill(script.Id, 15));
            Assert.True(script.WaitForExit(TimeSpan.FromSeconds(60)), "run.sh did not stop within 60 s of SIGTERM");
            Assert.False(File.Exists(Path.Combine(home, "postgres", "data", "postmaster.pid")), "the managed PostgreSQL is still running after run.sh stopped");
            Assert.DoesNotContain(Process.GetProcessesByName("PlugAndCharge.Samples.Roaming"), p => CommandLineOf(p).Contains(home, StringComparison.Ordinal));
        }
        finally
        {
            if (!script.HasExited) { Kill(script.Id, 15); script.WaitForExit(TimeSpan.FromSeconds(60)); }
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string CommandLineOf(Process p)
    {
        try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(40));
}
