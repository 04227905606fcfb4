using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Faults;

/// <summary>The real host over a PostgreSQL cluster of its own, which the tests crash and lock up (issue 22's fault table).</summary>
public sealed class DatabaseFaultFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;
    public ServiceFixture Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await PostgresCluster.StartAsync();
        Service = new ServiceFixture { AdminConnectionString = Cluster.AdminConnectionString };
        await Service.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class DatabaseFaultTests(DatabaseFaultFixture f, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<DatabaseFaultFixture>
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(5), Recovery = TimeSpan.FromSeconds(5);

    private static async Task AssertUnavailableAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(r.Headers.RetryAfter);
        Assert.Contains("\"status\":503", await r.Content.ReadAsStringAsync());
    }

    private async Task AssertAuditChainIntactAsync()
    {
        var verification = await AuditChain.VerifyAsync(f.Service.Ca.Audit.ReadAllAsync());
        Assert.True(verification.Intact, verification.Detail);
    }

    /// <summary>
    /// PostgreSQL crashes (<c>pg_ctl stop -m immediate</c>, the first half of <c>restart -m immediate</c>, held down so
    /// requests meet the outage): every request fails fast with 503 problem details and Retry-After, none hangs or answers
    /// 500; once PostgreSQL is back the same process serves again within 5 s, and the audit chain is intact.
    /// </summary>
    [Fact]
    public async Task A_crashed_database_costs_fast_503s_and_the_service_recovers_by_itself()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/participants")).StatusCode);

        await f.Cluster.KillAsync();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var read = Stopwatch.StartNew();
                await AssertUnavailableAsync(await http.GetAsync("/v1/participants"));
                Assert.True(read.Elapsed < FailFast, $"a read took {read.Elapsed} during the outage");
                var write = Stopwatch.StartNew();
                await AssertUnavailableAsync(await http.PostAsJsonAsync("/v1/participants", new { id = $"outage-{i}", role = "Cpo", identities = new[] { $"DFO0{i}" } }));
                Assert.True(write.Elapsed < FailFast, $"a write took {write.Elapsed} during the outage");
                output.WriteLine($"outage: read 503 in {read.ElapsedMilliseconds} ms, write 503 in {write.ElapsedMilliseconds} ms");
            }
        }
        finally
        {
            await f.Cluster.StartAgainAsync();
        }

        var back = Stopwatch.StartNew();
        HttpResponseMessage r;
        while ((r = await http.GetAsync("/v1/participants")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(back.Elapsed < Recovery, $"still {r.StatusCode} {back.Elapsed} after PostgreSQL returned");
            await Task.Delay(100);
        }
        output.WriteLine($"recovered {back.ElapsedMilliseconds} ms after pg_ctl start returned");
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/participants", new { id = "after-outage", role = "Cpo", identities = new[] { "DFA01" } })).StatusCode);
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// <c>pg_ctl restart -m immediate</c> while the pool holds idle connections, all of which die: the requests after the
    /// restart are all served: a read that meets a dead connection empties the pool and is retried on a fresh one.
    /// </summary>
    [Fact]
    public async Task After_an_immediate_restart_the_pool_of_dead_connections_costs_no_request()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        // Fill the pool with connections that will all be dead after the restart.
        foreach (var r in await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => http.GetAsync("/v1/participants")))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        await f.Cluster.RestartAsync();
        var back = Stopwatch.StartNew();
        int served = 0, refused = 0;
        while (served < 20)
        {
            var r = await http.GetAsync("/v1/participants");
            if (r.StatusCode == HttpStatusCode.OK) served++;
            else { await AssertUnavailableAsync(r); refused++; }
            Assert.True(back.Elapsed < Recovery, $"{refused} refused, {served} served {back.Elapsed} after the restart");
        }
        output.WriteLine($"after pg_ctl restart -m immediate: {refused} requests refused with 503 before 20 were served, {back.ElapsedMilliseconds} ms");
        Assert.Equal(0, refused); // the reads that met a dead connection were retried on a fresh one
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// A session holds row locks (<c>begin; select ... for update</c> on a participant's client certificate): revoking it
    /// times out within the lock timeout (5 s) with a clear 503 instead of waiting, while reads, the CRL and OCSP for that
    /// very certificate keep answering; once the session ends the revocation goes through.
    /// </summary>
    [Fact]
    public async Task A_session_holding_row_locks_makes_writers_time_out_while_reads_CRL_and_OCSP_keep_serving()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/participants", new { id = "locked", role = "Cpo", identities = new[] { "DFL01" } })).StatusCode);
        using var cert = await f.Service.IssueClientCertificateAsync("locked");
        var fingerprint = Participants.ParticipantDirectory.Fingerprint(cert.RawData);
        var ocspRequest = OcspRequest(cert);
        var ocspBefore = await PostOcspAsync(http, ocspRequest);
        Assert.Equal(HttpStatusCode.OK, ocspBefore.StatusCode);

        await using (var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.Service.Db.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await holder.OpenAsync();
            await using var tx = await holder.BeginTransactionAsync();
            await using (var lockRows = new NpgsqlCommand("select 1 from certificates where serial = @s for update; select 1 from participants where id = 'locked' for update", holder, tx))
            {
                lockRows.Parameters.AddWithValue("s", new Org.BouncyCastle.Math.BigInteger(cert.SerialNumber, 16).ToString(16));
                Assert.Equal(1, await lockRows.ExecuteScalarAsync());
            }

            var write = Stopwatch.StartNew();
            var revoke = await http.DeleteAsync($"/v1/participants/locked/credentials/ClientCertificate/{fingerprint}");
            write.Stop();
            output.WriteLine($"locked write: {(int)revoke.StatusCode} in {write.ElapsedMilliseconds} ms");
            await AssertUnavailableAsync(revoke);
            Assert.True(write.Elapsed < TimeSpan.FromSeconds(10), $"the locked write took {write.Elapsed}");

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/participants/locked")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/crl/iso2-mo-subca2.crl")).StatusCode);
            var ocsp = await PostOcspAsync(http, ocspRequest);
            Assert.Equal(HttpStatusCode.OK, ocsp.StatusCode);
            Assert.Equal("application/ocsp-response", ocsp.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/participants/locked/credentials/ClientCertificate/{fingerprint}")).StatusCode);
        await AssertAuditChainIntactAsync();
    }

    private byte[] OcspRequest(System.Security.Cryptography.X509Certificates.X509Certificate2 cert)
    {
        var issuer = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(f.Service.ParticipantCa.RawData);
        var id = new Org.BouncyCastle.Ocsp.CertificateID(new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(
            new Org.BouncyCastle.Asn1.DerObjectIdentifier("1.3.14.3.2.26"), Org.BouncyCastle.Asn1.DerNull.Instance), issuer,
            new Org.BouncyCastle.Math.BigInteger(cert.SerialNumber, 16));
        var generator = new Org.BouncyCastle.Ocsp.OcspReqGenerator();
        generator.AddRequest(id);
        return generator.Generate().GetEncoded();
    }

    private static Task<HttpResponseMessage> PostOcspAsync(HttpClient http, byte[] request)
    {
        var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return http.PostAsync($"/ocsp/{Participants.ParticipantDirectory.ParticipantCaId}", content);
    }
}
