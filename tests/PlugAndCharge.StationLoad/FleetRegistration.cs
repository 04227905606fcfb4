using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using PlugAndCharge.FaultSuite;
using PlugAndCharge.Samples.Roaming;

namespace PlugAndCharge.StationLoad;

public sealed record RegisteredStation(string Id, string Password);

/// <summary>A car's contract as the stations present it: its eMAID and chain for Authorize, its signed installation request.</summary>
public sealed record CarContract(string Emaid, string ChainPem, string InstallationRequest);

/// <summary>The fleet registered on one cluster (kept in its home between runs, 0600: it holds the station passwords).</summary>
public sealed record RegisteredFleet(List<RegisteredStation> Stations, List<CarContract> Cars);

/// <summary>
/// Sets the fleet up through the real API: the fault suite's world (participants, roots, cars with contracts, the CPO),
/// then the stations registered by the CPO with security profile 2, many at once. What a run registered is kept in
/// the cluster's home, so a later run on the same cluster registers only what is missing.
/// </summary>
public static class FleetRegistration
{
    private const string FileName = "station-load-fleet.json";

    public static async Task<RegisteredFleet> LoadOrRegisterAsync(ClusterControl cluster, int stations, int cars, int concurrency, TextWriter log)
    {
        var file = Path.Combine(cluster.Home, FileName);
        var fleet = File.Exists(file) ? JsonSerializer.Deserialize<RegisteredFleet>(await File.ReadAllTextAsync(file))! : new RegisteredFleet([], []);
        if (fleet.Stations.Count >= stations && fleet.Cars.Count >= cars)
        {
            log.WriteLine($"setup: {fleet.Stations.Count} stations and {fleet.Cars.Count} cars registered by an earlier run ({file})");
            return fleet with { Stations = fleet.Stations[..stations], Cars = fleet.Cars[..cars] };
        }

        using var webhooks = new WebhookReceiver();
        var world = await Setup.RunAsync(cluster, cars, 0, webhooks.Url, log);
        fleet.Cars.Clear();
        fleet.Cars.AddRange(world.Cars.Select(c => new CarContract(c.Emaid, c.ChainPem, Convert.ToBase64String(c.InstallationRequest))));

        var missing = Enumerable.Range(fleet.Stations.Count, stations - Math.Min(stations, fleet.Stations.Count)).ToList();
        var registered = new RegisteredStation[missing.Count];
        var clock = Stopwatch.StartNew();
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, missing.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (k, ct) =>
        {
            registered[k] = await RegisterAsync(world.Cpo, $"LOAD-{missing[k]:D6}", ct);
            if (Interlocked.Increment(ref done) % 1000 == 0) log.WriteLine($"setup: {done} of {missing.Count} stations registered ({clock.Elapsed.TotalSeconds:F0} s)");
        });
        fleet.Stations.AddRange(registered);
        log.WriteLine($"setup: {missing.Count} stations registered in {clock.Elapsed.TotalSeconds:F1} s ({missing.Count / Math.Max(0.001, clock.Elapsed.TotalSeconds):F0}/s, {concurrency} at once)");
        await File.WriteAllTextAsync(file, "", CancellationToken.None);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(fleet));
        return fleet;
    }

    /// <summary>
    /// POST /v1/ocpp/stations with security profile 2 and no password: the service generates one (at least 128 bits) and
    /// answers it once. A service that still wants the CPO to choose it (400) gets a random one of 32 characters (OCPP
    /// 2.0.1 BasicAuthPassword: 16-40).
    /// </summary>
    private static async Task<RegisteredStation> RegisterAsync(HttpClient cpo, string id, CancellationToken ct)
    {
        var (status, answer) = await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", new { stationId = id, securityProfile = 2, serialNumber = "SN-" + id }, ct, 201, 400, 409);
        if (status == 409)
        {
            await Http.SendAsync(cpo, HttpMethod.Delete, $"/v1/ocpp/stations/{id}", null, ct, 200, 204);
            (status, answer) = await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", new { stationId = id, securityProfile = 2, serialNumber = "SN-" + id }, ct, 201, 400);
        }
        if (status == 201 && answer?["password"]?.GetValue<string>() is { } generated) return new RegisteredStation(id, generated);
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", new { stationId = id, securityProfile = 2, password, serialNumber = "SN-" + id }, ct, 201);
        return new RegisteredStation(id, password);
    }
}
