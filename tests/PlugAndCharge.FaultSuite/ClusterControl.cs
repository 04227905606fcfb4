using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Npgsql;

namespace PlugAndCharge.FaultSuite;

/// <summary>
/// The cluster scripts/cluster.sh started (its cluster.env and pnc.env) and the faults the suite injects into it: a
/// killed instance, a crashed and restarted PostgreSQL, row locks held by another session, a database that stops
/// answering (SIGSTOP), and a failover to the synchronous standby.
/// </summary>
public sealed class ClusterControl
{
    [DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private const int SigKill = 9, SigStop = 19, SigCont = 18;

    private readonly Dictionary<string, string> _env;
    public string Home { get; }
    public string PublicUrl => "http://127.0.0.1:" + _env["CLUSTER_FRONT_HTTP"];
    public string ParticipantUrl => "https://127.0.0.1:" + _env["CLUSTER_FRONT_HTTPS"];
    public (string Data, int Port) Primary { get; private set; }
    public (string Data, int Port)? Standby { get; private set; }
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; }
    public X509Certificate2 TlsCa { get; }

    public ClusterControl(string home)
    {
        Home = home;
        _env = ReadEnv(Path.Combine(home, "cluster.env"));
        ServiceEnvironment = ReadEnv(Path.Combine(home, "pnc.env"));
        Primary = HostOf(_env["CLUSTER_PG_PRIMARY"]);
        Standby = string.IsNullOrEmpty(_env.GetValueOrDefault("CLUSTER_PG_STANDBY")) ? null : HostOf(_env["CLUSTER_PG_STANDBY"]);
        TlsCa = X509CertificateLoader.LoadCertificateFromFile(_env["CLUSTER_TLS_CA"]);
    }

    public X509Certificate2 AdminCertificate()
    {
        using var pem = X509Certificate2.CreateFromPemFile(_env["CLUSTER_ADMIN_CERT"], _env["CLUSTER_ADMIN_KEY"]);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The service's own connection string (both hosts when there is a standby).</summary>
    public string DatabaseConnectionString => ServiceEnvironment["PNC_DATABASE"];

    /// <summary>A connection to the current primary only, for the checks and the lock-holding session.</summary>
    public string PrimaryConnectionString(int timeoutSeconds = 5)
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseConnectionString) { Host = "127.0.0.1", Port = Primary.Port, Pooling = false, Timeout = timeoutSeconds, CommandTimeout = 120 };
        b.Remove("Target Session Attributes");
        return b.ConnectionString;
    }

    public int InstancePid(string name) => int.Parse(File.ReadAllText(Path.Combine(_env["CLUSTER_PID_DIR"], $"instance-{name}.pid")).Trim(), CultureInfo.InvariantCulture);

    public string InstanceHttpsUrl(string name) =>
        "https://127.0.0.1:" + _env["CLUSTER_INSTANCES"].Split(',').Select(i => i.Split(':')).First(p => p[0] == name)[2];

    /// <summary>
    /// Takes an instance out of HAProxy's participant rotation (state maint) or puts it back (state ready), through
    /// HAProxy's runtime API on the cluster's admin socket. Sessions already open to it stay; new ones go elsewhere.
    /// </summary>
    public async Task SetInRotationAsync(string name, bool inRotation)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_env["CLUSTER_HAPROXY_SOCKET"]));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"set server instances_https/{name} state {(inRotation ? "ready" : "maint")}\n"));
        var buffer = new byte[1024];
        var answer = Encoding.ASCII.GetString(buffer, 0, await socket.ReceiveAsync(buffer)).Trim();
        // The command answers nothing when it succeeded.
        if (answer.Length > 0) throw new InvalidOperationException($"HAProxy refused to change instance {name}: {answer}");
    }

    /// <summary>kill -9: the process dies at once, its WebSockets and requests in flight with it (the supervisor starts it again).</summary>
    public void KillInstance(string name)
    {
        if (Kill(InstancePid(name), SigKill) != 0) throw new InvalidOperationException($"kill -9 instance {name} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary><c>pg_ctl restart -m immediate</c>: every backend killed, crash recovery, started again with its options.</summary>
    public Task RestartPrimaryAsync() =>
        PgCtlAsync("restart", "-m", "immediate", "-w", "-t", "60", "-D", Primary.Data, "-l", Path.Combine(Home, "logs", "postgres.log"));

    /// <summary>Primary killed as in a crash, then the standby promoted: the standby is the primary from now on.</summary>
    public async Task FailOverAsync()
    {
        var standby = Standby ?? throw new InvalidOperationException("The cluster has no standby (PNC_CLUSTER_STANDBY=1).");
        await PgCtlAsync("stop", "-m", "immediate", "-D", Primary.Data);
        await PgCtlAsync("promote", "-w", "-t", "60", "-D", standby.Data);
        Primary = standby;
        Standby = null;
    }

    /// <summary>
    /// The database stops answering without closing anything, as behind a network partition: SIGSTOP to the postmaster and
    /// every process of the server (its backends hold the pooled connections); SIGCONT ends it. (No iptables here.)
    /// </summary>
    public void Partition(bool on)
    {
        var pids = PostgresPids();
        // Children first when stopping (so none notices the postmaster stopped), postmaster first when continuing.
        if (on) pids.Reverse();
        foreach (var pid in pids) Kill(pid, on ? SigStop : SigCont);
    }

    /// <summary>The primary's postmaster, then every process it started (backends, WAL writer, ...).</summary>
    public List<int> PostgresPids()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(Primary.Data, "postmaster.pid")).First().Trim(), CultureInfo.InvariantCulture);
        return [postmaster, .. ProcessTable().Where(p => p.Parent == postmaster).Select(p => p.Pid)];
    }

    /// <summary>HAProxy of this cluster (the process started with its haproxy.cfg).</summary>
    public List<int> HaproxyPids() =>
        ProcessTable().Where(p => p.CommandLine.Contains(Path.Combine(Home, "haproxy.cfg"), StringComparison.Ordinal)).Select(p => p.Pid).ToList();

    /// <summary>user + system CPU time of the processes so far (/proc/PID/stat utime and stime, in clock ticks of 10 ms).</summary>
    public static TimeSpan CpuTime(IEnumerable<int> pids)
    {
        long ticks = 0;
        foreach (var pid in pids)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException) { } // ended meanwhile
        }
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static IEnumerable<(int Pid, int Parent, string CommandLine)> ProcessTable()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            int parent;
            string commandLine;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            yield return (pid, parent, commandLine);
        }
    }

    /// <summary>Runs the pnc CLI with the cluster's configuration (e.g. <c>audit verify</c>).</summary>
    public async Task<(int Exit, string Output)> PncAsync(string pnc, params string[] args)
    {
        var psi = new ProcessStartInfo(pnc) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in ServiceEnvironment) psi.Environment[k] = v;
        // Against the current primary only (the standby may be gone).
        psi.Environment["PNC_DATABASE"] = new NpgsqlConnectionStringBuilder(PrimaryConnectionString()) { Pooling = true }.ConnectionString;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, (await output + await error).Trim());
    }

    // PNC_PG_BIN or the newest /usr/lib/postgresql/*/bin, the binaries scripts/cluster.sh chose too.
    private static Task PgCtlAsync(params string[] args) => PlugAndCharge.Storage.Local.LocalPostgresCluster.RunToolAsync("pg_ctl", args);

    private static (string, int) HostOf(string value)
    {
        var i = value.LastIndexOf(':');
        return (value[..i], int.Parse(value[(i + 1)..], CultureInfo.InvariantCulture));
    }

    private static Dictionary<string, string> ReadEnv(string file)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(file))
        {
            var line = raw.StartsWith("export ", StringComparison.Ordinal) ? raw[7..] : raw;
            var eq = line.IndexOf('=');
            if (eq <= 0) continue;
            var value = line[(eq + 1)..];
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            env[line[..eq]] = value;
        }
        return env;
    }
}
