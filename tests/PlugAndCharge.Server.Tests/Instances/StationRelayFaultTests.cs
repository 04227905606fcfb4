using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PlugAndCharge.Ocpp;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Local;
using PlugAndCharge.Storage.Ocpp;
using Xunit;

namespace PlugAndCharge.Server.Tests.Instances;

/// <summary>
/// Faults of the relay between instances: an instance killed without a clean stop, and a restart of PostgreSQL (each
/// instance's LISTEN connection is its own, non-pooled, and comes back by itself). The restart runs on a private cluster
/// (Debian's initdb/pg_ctl, password authentication) that the test stops and starts; the shared test server is never touched.
/// </summary>
public sealed class StationRelayFaultTests
{
    /// <summary>
    /// An instance killed without a clean stop (kill -9, a frozen process) leaves its session rows behind; they stop
    /// counting once its heartbeat is older than InstanceTimeout, and a command already waiting for it ends with
    /// "not connected" (409 at the REST surface) instead of waiting for the full call timeout.
    /// </summary>
    [Fact]
    public async Task The_stations_of_an_instance_whose_heartbeat_stopped_are_connected_nowhere_and_a_waiting_command_ends_early()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var db = StorageDataSource.Create(database.ConnectionString);
        await MigrationRunner.ApplyAsync(db);
        var options = new StationPresenceOptions { InstanceTimeout = TimeSpan.FromSeconds(2) };
        var holder = new PostgresStationPresence(db, options, NullLogger<PostgresStationPresence>.Instance);
        var caller = new PostgresStationPresence(db, options, NullLogger<PostgresStationPresence>.Instance);
        using var killHolder = new CancellationTokenSource();
        using var stopCaller = new CancellationTokenSource();
        var holderRun = holder.RunAsync(new ConnectedStations(holder), killHolder.Token);
        var callerRun = caller.RunAsync(new ConnectedStations(caller), stopCaller.Token);
        await holder.Listening.WaitAsync(TimeSpan.FromSeconds(10));
        await using (var c = await db.OpenConnectionAsync())
        await using (var insert = new NpgsqlCommand(
            "insert into ocpp_station_sessions (station_id, instance_id, connection_id, ocpp_version) values ('CS-KILLED', @me, gen_random_uuid(), 'ocpp2.0.1')", c))
        {
            insert.Parameters.AddWithValue("me", holder.InstanceId);
            await insert.ExecuteNonQueryAsync();
        }
        var located = await caller.LocateAsync("CS-KILLED");
        Assert.Equal(holder.InstanceId, located?.InstanceId);

        // The holder stops heartbeating and listening, and cleans nothing up.
        await killHolder.CancelAsync();
        await holderRun;
        var waited = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<OcppCallFailedException>(() => caller.CallAsync(located!, "TriggerMessage",
            System.Text.Json.JsonDocument.Parse("{\"requestedMessage\":\"SignV2GCertificate\"}").RootElement, false, TimeSpan.FromSeconds(60)));
        Assert.Equal((OcppCallFailure.NotConnected, "TriggerMessage: the instance holding the station stopped"), (e.Failure, e.Message));
        // Within the instance timeout and one poll (about 3 s alone), not the 60 s call timeout. The bound leaves room for
        // a test process busy with the other classes: it took 11 s once in a full run on 2 cores.
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(25), $"ended after {waited.Elapsed.TotalSeconds:0.0} s");
        Assert.Null(await caller.LocateAsync("CS-KILLED"));

        await stopCaller.CancelAsync();
        await callerRun;
    }

    [Fact]
    public async Task After_a_database_restart_a_relayed_command_reaches_the_holding_instance_again_without_a_process_restart()
    {
        var home = Path.Combine(Path.GetTempPath(), "pnc-relay-" + Guid.NewGuid().ToString("N")[..8]);
        var cluster = new LocalPostgresCluster(home);
        try
        {
            var connectionString = await cluster.EnsureStartedAsync(TextWriter.Null);
            await using var db = StorageDataSource.Create(connectionString);
            await MigrationRunner.ApplyAsync(db);
            var options = new StationPresenceOptions();
            var holder = new PostgresStationPresence(db, options, NullLogger<PostgresStationPresence>.Instance);
            var caller = new PostgresStationPresence(db, options, NullLogger<PostgresStationPresence>.Instance);
            using var stop = new CancellationTokenSource();
            var running = Task.WhenAll(holder.RunAsync(new ConnectedStations(holder), stop.Token), caller.RunAsync(new ConnectedStations(caller), stop.Token));
            await holder.Listening.WaitAsync(TimeSpan.FromSeconds(10));

            // The holder has no connection of the station: its own answer ("not connected") proves the command reached it.
            var station = new RemoteStation("CS-RELAY", holder.InstanceId, Guid.NewGuid(), OcppVersion.V201);
            async Task<string> AskAsync()
            {
                var e = await Assert.ThrowsAsync<OcppCallFailedException>(() => caller.CallAsync(station, "TriggerMessage",
                    System.Text.Json.JsonDocument.Parse("""{"requestedMessage":"SignV2GCertificate"}""").RootElement, false, TimeSpan.FromSeconds(5)));
                Assert.Equal(OcppCallFailure.NotConnected, e.Failure);
                return e.Message;
            }
            Assert.Equal("TriggerMessage: the station is not connected", await AskAsync());

            await cluster.StopAsync();
            // Only the pool of the cluster tool's own connection: the instances' pool must recover by itself.
            await using (var admin = new NpgsqlConnection(cluster.ConnectionString("postgres"))) NpgsqlConnection.ClearPool(admin);
            await cluster.EnsureStartedAsync(TextWriter.Null);

            // Back without restarting either instance: the holder listens again and answers.
            var back = Stopwatch.StartNew();
            string? answer = null;
            while (answer == null && back.Elapsed < TimeSpan.FromSeconds(20))
            {
                try { answer = await AskAsync(); }
                catch (Exception e) when (e is NpgsqlException or Xunit.Sdk.XunitException) { await Task.Delay(200); }
            }
            Assert.Equal("TriggerMessage: the station is not connected", answer);

            await stop.CancelAsync();
            await running;
        }
        finally
        {
            await cluster.StopAsync();
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
