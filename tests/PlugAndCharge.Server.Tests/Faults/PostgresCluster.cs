using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PlugAndCharge.Server.Tests.Faults;

/// <summary>
/// A PostgreSQL cluster of a fault test's own, started with Debian's initdb and pg_ctl (as the postgres user when the
/// tests run as root) on a free port, so a test may stop, kill or restart it without touching the shared test cluster.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _dir;
    private readonly int _port;
    private static readonly string Bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
        .Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending().FirstOrDefault() ?? "/usr/lib/postgresql/15/bin";

    public string AdminConnectionString => $"Host=127.0.0.1;Port={_port};Username=pnc;Database=postgres;Pooling=true";

    private PostgresCluster(string dir, int port) { _dir = dir; _port = port; }

    public static async Task<PostgresCluster> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("pnc-fault-pg.").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755, for the postgres user
        var cluster = new PostgresCluster(dir, FreePort());
        await cluster.AsPostgresAsync("chown", "postgres:postgres", dir, asRoot: true);
        await cluster.AsPostgresAsync(Path.Combine(Bin, "initdb"), "-D", cluster.Data, "-U", "pnc", "--auth=trust", "-E", "UTF8", "--no-instructions");
        await cluster.StartAgainAsync();
        return cluster;
    }

    private string Data => Path.Combine(_dir, "pg");

    /// <summary>Starts the stopped cluster and waits until it accepts connections.</summary>
    public Task StartAgainAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "start", "-w", "-t", "60", "-D", Data, "-l", Path.Combine(_dir, "server.log"),
        "-o", $"-p {_port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200");

    /// <summary>Stops the cluster the way a crash does (<c>pg_ctl stop -m immediate</c>): backends die, clients see resets.</summary>
    public Task KillAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "stop", "-m", "immediate", "-D", Data);

    /// <summary><c>pg_ctl restart -m immediate</c>: a crash and crash recovery, the server's options kept; returns once it accepts connections.</summary>
    public Task RestartAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "restart", "-m", "immediate", "-w", "-t", "60", "-D", Data, "-l", Path.Combine(_dir, "server.log"));

    private async Task AsPostgresAsync(string file, params string[] args) => await AsPostgresAsync(file, args, asRoot: false);

    private async Task AsPostgresAsync(string file, string a, string b, bool asRoot) => await AsPostgresAsync(file, [a, b], asRoot);

    private static async Task AsPostgresAsync(string file, string[] args, bool asRoot)
    {
        var root = Environment.UserName == "root";
        if (!root && file == "chown") return;
        var psi = new ProcessStartInfo(root && !asRoot ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (root && !asRoot) foreach (var a in new[] { "-u", "postgres", "--", file }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await output}{await error}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try { await KillAsync(); } catch (InvalidOperationException) { } // stopped already
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
