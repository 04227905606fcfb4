using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace PlugAndCharge.Storage.Local;

/// <summary>
/// A PostgreSQL cluster this tool creates and starts itself in a data folder, for a newcomer with no database
/// configured. Uses Debian's initdb/pg_ctl; as root they refuse to run, so they run as the <c>postgres</c> user.
/// Password authentication (SCRAM) on 127.0.0.1 only; the generated password stays in the folder, readable by its owner.
/// </summary>
public sealed class LocalPostgresCluster
{
    public string Home { get; }
    private string DataDir => Path.Combine(Home, "data");
    private string SocketDir => Path.Combine(Home, "run");
    private string PortFile => Path.Combine(Home, "port");
    private string PasswordFile => Path.Combine(Home, "password");
    private string LogFile => Path.Combine(Home, "postgres.log");
    private const string User = "pnc";
    private const string Database = "pnc";

    public LocalPostgresCluster(string home) => Home = Path.GetFullPath(home);

    /// <summary>True when <see cref="EnsureStartedAsync"/> started the server (it was not already running for someone else).</summary>
    public bool StartedHere { get; private set; }

    public int Port => int.Parse(File.ReadAllText(PortFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public string ConnectionString(string database = Database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = User, Password = File.ReadAllText(PasswordFile).Trim(), Database = database,
        MaxPoolSize = 64, Timeout = 15,
    }.ConnectionString;

    /// <summary>Creates the cluster on first use, starts it when stopped, creates the database; returns its connection string.</summary>
    public async Task<string> EnsureStartedAsync(TextWriter log, CancellationToken ct = default)
    {
        var bin = FindBinDirectory();
        var asRoot = Environment.UserName == "root" || geteuid() == 0;
        Directory.CreateDirectory(Home);
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
        {
            log.WriteLine($"Creating a local PostgreSQL cluster in {DataDir} ...");
            Directory.CreateDirectory(DataDir);
            Directory.CreateDirectory(SocketDir);
            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            WriteSecret(PasswordFile, password);
            File.WriteAllText(PortFile, FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
            var pwTemp = Path.Combine(Home, "initdb-pw");
            WriteSecret(pwTemp, password);
            if (asRoot) { Chown(DataDir); Chown(SocketDir); Chown(pwTemp); }
            try
            {
                await RunAsync(bin, "initdb", asRoot, ["-D", DataDir, "-U", User, "--pwfile", pwTemp, "--auth=scram-sha-256", "-E", "UTF8", "--no-instructions"], ct);
            }
            finally { File.Delete(pwTemp); }
        }
        if (await RunAsync(bin, "pg_ctl", asRoot, ["status", "-D", DataDir], ct, throwOnError: false) != 0)
        {
            if (!PortIsFree(Port)) File.WriteAllText(PortFile, FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(SocketDir);
            if (asRoot) { Chown(SocketDir); Chown(Home, recursive: false); TouchOwned(LogFile); }
            log.WriteLine($"Starting PostgreSQL on 127.0.0.1:{Port} ...");
            await RunAsync(bin, "pg_ctl", asRoot, ["start", "-w", "-t", "60", "-D", DataDir, "-l", LogFile, "-o", $"-p {Port} -k {SocketDir} -c listen_addresses=127.0.0.1"], ct);
            StartedHere = true;
        }
        await using (var conn = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await conn.OpenAsync(ct);
            await using var check = new NpgsqlCommand($"select 1 from pg_database where datname = '{Database}'", conn);
            if (await check.ExecuteScalarAsync(ct) == null)
            {
                await using var create = new NpgsqlCommand($"create database {Database}", conn);
                await create.ExecuteNonQueryAsync(ct);
            }
        }
        return ConnectionString();
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION"))) return;
        var asRoot = geteuid() == 0;
        await RunAsync(FindBinDirectory(), "pg_ctl", asRoot, ["stop", "-m", "fast", "-D", DataDir], ct, throwOnError: false);
    }

    public static string FindBinDirectory()
    {
        var env = Environment.GetEnvironmentVariable("PNC_PG_BIN");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "initdb"))) return env;
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var best = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(x => File.Exists(Path.Combine(x.Dir, "initdb"))).OrderByDescending(x => x.Version).FirstOrDefault();
            if (best.Dir != null) return best.Dir;
        }
        foreach (var p in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(p, "initdb"))) return p;
        throw new InvalidOperationException("PostgreSQL's initdb was not found (install postgresql, or set PNC_PG_BIN, or configure a database with --db / PNC_DATABASE).");
    }

    /// <summary>
    /// Runs one of PostgreSQL's tools (initdb, pg_ctl, pg_basebackup) from <see cref="FindBinDirectory"/>, as the postgres
    /// user when this process is root (PostgreSQL refuses to run as root); throws with its output when it fails.
    /// </summary>
    public static Task<int> RunToolAsync(string tool, IReadOnlyList<string> args, CancellationToken ct = default) =>
        RunAsync(FindBinDirectory(), tool, geteuid() == 0, [.. args], ct);

    private static async Task<int> RunAsync(string bin, string tool, bool asRoot, string[] args, CancellationToken ct, bool throwOnError = true)
    {
        var psi = asRoot ? new ProcessStartInfo("runuser") : new ProcessStartInfo(Path.Combine(bin, tool));
        if (asRoot) { psi.ArgumentList.Add("-u"); psi.ArgumentList.Add("postgres"); psi.ArgumentList.Add("--"); psi.ArgumentList.Add(Path.Combine(bin, tool)); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = "/";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (throwOnError && p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} failed ({p.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}");
        return p.ExitCode;
    }

    private static void WriteSecret(string path, string value)
    {
        var o = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var f = new FileStream(path, o);
        using var w = new StreamWriter(f);
        w.Write(value);
    }

    private static void TouchOwned(string path)
    {
        if (!File.Exists(path)) File.WriteAllText(path, "");
        Chown(path, recursive: false);
    }

    private static void Chown(string path, bool recursive = true)
    {
        var psi = new ProcessStartInfo("chown");
        if (recursive) psi.ArgumentList.Add("-R");
        psi.ArgumentList.Add("postgres:postgres");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown postgres {path} failed.");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static bool PortIsFree(int port)
    {
        try { using var l = new TcpListener(IPAddress.Loopback, port); l.Start(); return true; }
        catch (SocketException) { return false; }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();
}
