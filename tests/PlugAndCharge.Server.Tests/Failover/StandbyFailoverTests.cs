using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace PlugAndCharge.Server.Tests.Failover;

/// <summary>
/// The service on Npgsql's multi-host connection string (primary, synchronous standby; Target Session Attributes=primary):
/// the primary is killed, the standby promoted, and the service carries on against the new primary without a restart,
/// with every contract it acknowledged (201) before the kill present there.
/// </summary>
public sealed class StandbyFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_the_primary_dies_and_the_standby_is_promoted_the_service_continues_and_no_acknowledged_contract_is_lost()
    {
        await using var pair = await StreamingReplicaPair.StartAsync();
        var w = new ContractApiFixture(new ServiceFixture { ConnectionString = pair.ConnectionString });
        await w.InitializeAsync();
        try
        {
            var oemRoot = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM" });
            oemRoot.EnsureSuccessStatusCode();
            var acknowledged = new List<(string Emaid, string Serial)>();
            var cars = new List<PlugAndCharge.TestSupport.Vehicles.VehicleSimulator>();
            for (var i = 0; i < 8; i++)
            {
                var car = await w.NewCarAsync();
                cars.Add(car);
                (await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).EnsureSuccessStatusCode();
                acknowledged.Add(await CreateContractAsync(w, car.Pcid, CancellationToken.None) ?? throw new InvalidOperationException("no contract before the fault"));
            }

            await pair.KillPrimaryAsync();
            var outage = Stopwatch.StartNew();
            // Requests while no primary exists: they fail (pooled connections to the dead primary break, the standby is
            // seen in recovery and refused by Target Session Attributes=primary), without hanging.
            var answers = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var sent = Stopwatch.StartNew();
                using var during = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                Assert.Null(await CreateContractAsync(w, cars[i].Pcid, during.Token, answers));
                answers[^1] += $" in {sent.ElapsedMilliseconds} ms";
            }
            output.WriteLine($"answers with no primary: {string.Join(", ", answers)}");
            answers.Clear();
            await pair.PromoteStandbyAsync();
            var promoted = outage.ElapsedMilliseconds;
            output.WriteLine($"standby promoted {promoted} ms after the kill");

            // New writes succeed on the new primary within 10 s of the kill, with no restart of the service.
            (string Emaid, string Serial)? after = null;
            while (after == null && outage.Elapsed < TimeSpan.FromSeconds(10))
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { after = await CreateContractAsync(w, cars[0].Pcid, attempt.Token, answers); }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { answers.Add(e.GetType().Name); }
                if (after == null) await Task.Delay(200);
            }
            output.WriteLine($"first acknowledged write: {outage.ElapsedMilliseconds} ms after the kill, {outage.ElapsedMilliseconds - promoted} ms after the promotion; answers before it: {string.Join(", ", answers)}");
            Assert.True(after != null, $"no contract could be created within 10 s of the failover; answers: {string.Join(", ", answers)}");
            acknowledged.Add(after.Value);

            // Every acknowledged contract is there: through the service, and in the new primary's own tables.
            foreach (var (emaid, serial) in acknowledged)
            {
                var got = await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}");
                Assert.Equal(serial, got.GetProperty("certificate").GetProperty("serial").GetString());
            }
            await using (var conn = new NpgsqlConnection(pair.DirectConnectionString(pair.StandbyPort)))
            {
                await conn.OpenAsync();
                await using var count = new NpgsqlCommand("select count(*) from certificates where serial = any(@s) and status = 'Valid'", conn);
                count.Parameters.AddWithValue("s", acknowledged.Select(a => a.Serial).ToArray());
                Assert.Equal(acknowledged.Count, Convert.ToInt32(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
                await using var recovery = new NpgsqlCommand("select pg_is_in_recovery()", conn);
                Assert.False((bool)(await recovery.ExecuteScalarAsync())!);
            }
            // The audit hash chain (what `pnc audit verify` checks) is intact across the failover.
            var audit = await PlugAndCharge.Pki.Audit.AuditChain.VerifyAsync(w.F.Ca.Audit.ReadAllAsync());
            Assert.True(audit.Intact, audit.Detail);
            foreach (var car in cars) car.Dispose();
        }
        finally { await w.DisposeAsync(); }
    }

    /// <summary>POST /v1/contracts: the EMAID and certificate serial when the service acknowledged it (201), else null.</summary>
    private static async Task<(string Emaid, string Serial)?> CreateContractAsync(ContractApiFixture w, string pcid, CancellationToken ct, List<string>? answers = null)
    {
        var created = await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid }, ct);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            answers?.Add(((int)created.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return null;
        }
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        return (body.GetProperty("emaid").GetString()!, body.GetProperty("certificate").GetProperty("serial").GetString()!);
    }
}
