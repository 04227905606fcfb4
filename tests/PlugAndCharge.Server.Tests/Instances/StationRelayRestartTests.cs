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
/// The relay between instances survives a restart of PostgreSQL: each instance's LISTEN connection is its own,
/// non-pooled, and comes back by itself. Runs on a private cluster (Debian's initdb/pg_ctl, password authentication)
/// that the test stops and starts; the shared test server is never touched.
/// </summary>
public sealed class StationRelayRestartTests
{
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
