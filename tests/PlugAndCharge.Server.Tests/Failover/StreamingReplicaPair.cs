using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using PlugAndCharge.Storage.Local;

namespace PlugAndCharge.Server.Tests.Failover;

/// <summary>
/// A PostgreSQL primary and a streaming standby made with Debian's binaries (initdb, pg_basebackup -R), with synchronous
/// replication on: a commit returns only once the standby has flushed its WAL (synchronous_commit = on), so a promoted
/// standby holds every acknowledged write. As root the tools run as the postgres user, as PostgreSQL requires.
/// </summary>
public sealed class StreamingReplicaPair : IAsyncDisposable
{
    private readonly string _dir = OpenSsl.TempDir();
    private string PrimaryData => Path.Combine(_dir, "primary");
    private string StandbyData => Path.Combine(_dir, "standby");
    private string Sockets => Path.Combine(_dir, "sockets");
    public int PrimaryPort { get; } = FreePort();
    public int StandbyPort { get; } = FreePort();
    public const string Database = "pnc";

    /// <summary>
    /// What an operator writes: both hosts, connect only to the primary (pg_is_in_recovery() false); a connection attempt
    /// gives up after 3 s. StorageDataSource re-probes a host seen down or in recovery after 1 s (Npgsql's default of 10 s
    /// kept the promoted standby out for 10 s).
    /// </summary>
    public string ConnectionString =>
        $"Host=127.0.0.1:{PrimaryPort},127.0.0.1:{StandbyPort};Username=pnc;Database={Database};Target Session Attributes=primary;Timeout=3";

    public string DirectConnectionString(int port) => $"Host=127.0.0.1;Port={port};Username=pnc;Database={Database};Pooling=false";

    public static async Task<StreamingReplicaPair> StartAsync()
    {
        var pair = new StreamingReplicaPair();
        try { await pair.InitAsync(); }
        catch { await pair.DisposeAsync(); throw; }
        return pair;
    }

    private async Task InitAsync()
    {
        Directory.CreateDirectory(Sockets);
        if (IsRoot) Chown(_dir);
        // Loopback only, trust: a throwaway test cluster (initdb's default pg_hba also admits replication from loopback).
        await RunAsync("initdb", "-D", PrimaryData, "-U", "pnc", "--auth=trust", "-E", "UTF8", "--no-instructions", "--no-sync");
        // synchronous_standby_names only on the primary's command line, so the promoted standby does not wait for a
        // standby it does not have (its files, copied by pg_basebackup, do not name one).
        await RunAsync("pg_ctl", "start", "-w", "-t", "60", "-D", PrimaryData, "-l", Path.Combine(_dir, "primary.log"),
            "-o", $"-p {PrimaryPort} -k {Sockets} -c listen_addresses=127.0.0.1 -c synchronous_standby_names=* -c synchronous_commit=on");
        await RunAsync("pg_basebackup", "-h", "127.0.0.1", "-p", PrimaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "pnc", "-D", StandbyData, "-R", "-X", "stream", "-c", "fast");
        await RunAsync("pg_ctl", "start", "-w", "-t", "60", "-D", StandbyData, "-l", Path.Combine(_dir, "standby.log"),
            "-o", $"-p {StandbyPort} -k {Sockets} -c listen_addresses=127.0.0.1");
        await using var conn = new NpgsqlConnection(DirectConnectionString(PrimaryPort).Replace($"Database={Database}", "Database=postgres"));
        await conn.OpenAsync();
        for (var i = 0; ; i++) // the standby streams and is the synchronous one before any write is acknowledged
        {
            await using var state = new NpgsqlCommand("select sync_state from pg_stat_replication", conn);
            if (await state.ExecuteScalarAsync() is "sync") break;
            if (i > 100) throw new InvalidOperationException("The standby did not become synchronous within 10 s.");
            await Task.Delay(100);
        }
        await using var create = new NpgsqlCommand($"create database {Database}", conn);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>The primary dies as in a crash: no shutdown checkpoint, every backend killed (pg_ctl stop -m immediate).</summary>
    public Task KillPrimaryAsync() => RunAsync("pg_ctl", "stop", "-m", "immediate", "-D", PrimaryData);

    /// <summary>The standby ends recovery and accepts writes (pg_ctl promote waits until it does).</summary>
    public Task PromoteStandbyAsync() => RunAsync("pg_ctl", "promote", "-w", "-t", "60", "-D", StandbyData);

    private static bool IsRoot => Environment.UserName == "root";

    private static Task RunAsync(string tool, params string[] args) => LocalPostgresCluster.RunToolAsync(tool, args);

    private static void Chown(string path)
    {
        using var p = Process.Start("chown", ["-R", "postgres:postgres", path]);
        p.WaitForExit();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var data in new[] { PrimaryData, StandbyData })
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
                try { await RunAsync("pg_ctl", "stop", "-m", "immediate", "-D", data); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
