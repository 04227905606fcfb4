using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Tests;
using PlugAndCharge.Pki.Tests.Issuance;
using PlugAndCharge.Storage;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Storage;

public sealed class PostgresPkiFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;
    public PostgresPkiStore Store { get; private set; } = null!;
    public CertificateAuthorityServices Ca { get; private set; } = null!;
    public string KeyDir { get; } = OpenSsl.TempDir();

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        (Db, Store) = await PkiDatabase.OpenAsync(Database.ConnectionString);
        var keys = new KeyProviderRegistry([new SoftwareKeyProvider(KeyDir, () => "test passphrase", iterations: 1000)]);
        Ca = new CertificateAuthorityServices(Store, Store, Store, keys, null, new PkiOptions());
        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, "test");
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await Db.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public class PostgresPkiStoreTests(PostgresPkiFixture fx) : IClassFixture<PostgresPkiFixture>
{
    private Task<IssuedCertificate> Issue(string instance) => fx.Ca.Issuer.IssueAsync(new IssuanceRequest
    {
        ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Actor = "test",
        Csr = IssuanceTests.Csr(ECDsa.Create(ECCurve.NamedCurves.nistP256), $"CN={Emaid.Create("DE", "8AA", instance).Normalized}, DC=MO"),
    });

    [Fact]
    public async Task Issued_certificates_persist_and_revocation_is_idempotent_and_durable()
    {
        var issued = await Issue("C10000001");
        var stored = await fx.Ca.Certificates.GetAsync("iso2-mo-subca2", issued.Record.Serial);
        Assert.Equal(CertificateStatus.Valid, stored!.Status);
        Assert.Equal(issued.Certificate.GetEncoded(), stored.Der);

        var first = await fx.Ca.Revoker.RevokeAsync("iso2-mo-subca2", issued.Record.Serial, RevocationReason.KeyCompromise, "test");
        var second = await fx.Ca.Revoker.RevokeBySerialAsync(issued.Record.Serial.ToUpperInvariant(), RevocationReason.Superseded, "test");
        Assert.False(first.AlreadyRevoked);
        Assert.True(second.Outcome.AlreadyRevoked);
        Assert.Equal(RevocationReason.KeyCompromise, second.Outcome.Reason);
        Assert.Equal(first.RevokedAt, second.Outcome.RevokedAt);
        var revoked = await fx.Ca.Certificates.ListRevokedAsync("iso2-mo-subca2");
        Assert.Contains(revoked, r => r.Serial == issued.Record.Serial && r.Reason == RevocationReason.KeyCompromise);
        await Assert.ThrowsAsync<PkiException>(() => fx.Ca.Revoker.RevokeAsync("iso2-mo-subca2", "abcdef", RevocationReason.Unspecified, "test"));
    }

    [Fact]
    public async Task CRL_numbers_strictly_increase_and_openssl_verifies_the_CRL()
    {
        var a = await fx.Ca.Crls.GenerateAsync("iso2-mo-subca2", "test");
        var b = await fx.Ca.Crls.GenerateAsync("iso2-mo-subca2", "test");
        Assert.True(b.Number > a.Number);
        var latest = await fx.Ca.CaStore.GetLatestCrlAsync("iso2-mo-subca2");
        Assert.Equal(b.Number, latest!.Number);
        var dir = OpenSsl.TempDir();
        var ca = await fx.Ca.Authorities.GetAsync("iso2-mo-subca2");
        var (code, output) = OpenSsl.Run("crl", "-in", OpenSsl.WriteCrlPem(dir, "c.pem", b.Der), "-noout", "-verify", "-CAfile", OpenSsl.WritePem(dir, "ca.pem", ca.Certificate));
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Concurrent_issuance_gets_unique_serials_and_a_linear_audit_chain()
    {
        var tasks = Enumerable.Range(0, 40).Select(i => Issue($"C2{i:D7}")).ToList();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(40, results.Select(r => r.Record.Serial).Distinct().Count());
        var verification = await AuditChain.VerifyAsync(fx.Ca.Audit.ReadAllAsync());
        Assert.True(verification.Intact, verification.Detail);
    }

    [Fact]
    public async Task Serials_are_unique_across_instances_and_a_certificate_row_is_written_once()
    {
        // A second instance on the same database draws from the same counter.
        var (db2, store2) = await PkiDatabase.OpenAsync(fx.Database.ConnectionString);
        await using var _ = db2;
        await using var __ = store2;
        var blocks = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? fx.Store : store2).NextSerialCountersAsync(16)));
        Assert.Equal(128, blocks.SelectMany(b => b).Distinct().Count());

        var issued = await Issue("C30000001");
        await using var conn = await fx.Db.OpenConnectionAsync();
        Assert.Equal(1L, await conn.ExecuteScalarAsync<long>("select count(*) from certificates where serial = @Serial", new { issued.Record.Serial }));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select count(*) from certificates where status = 'Reserved'"));

        // Recording the same serial again fails named, and its transaction leaves no audit entry behind.
        var before = await conn.ExecuteScalarAsync<long>("select count(*) from audit_log");
        var e = await Assert.ThrowsAsync<PkiException>(() => store2.RecordIssuedAsync(issued.Record, new AuditEvent("test", "certificate.issue", "again", new Dictionary<string, string>())));
        Assert.Equal(PkiError.SerialCollision, e.Error);
        Assert.Equal(before, await conn.ExecuteScalarAsync<long>("select count(*) from audit_log"));
        // A failure recorded for an issued serial changes nothing.
        await store2.RecordFailedAsync(issued.Record.IssuerId, issued.Record.Serial, new AuditEvent("test", "certificate.issue-failed", "x", new Dictionary<string, string>()));
        Assert.Equal(CertificateStatus.Valid, (await fx.Store.GetAsync(issued.Record.IssuerId, issued.Record.Serial))!.Status);
    }

    [Fact]
    public async Task The_audit_log_refuses_updates_and_a_forced_edit_is_detected()
    {
        await Issue("C30000001");
        await using var conn = await fx.Db.OpenConnectionAsync();
        var ex = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync("update audit_log set actor = 'mallory' where seq = 1"));
        Assert.Contains("append-only", ex.MessageText);
        await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync("delete from audit_log where seq = 2"));

        // Someone with owner rights switches the guard off and edits history: the chain shows it.
        await using var other = await PostgresDatabase.CreateAsync();
        var (db, store) = await PkiDatabase.OpenAsync(other.ConnectionString);
        await store.AppendAsync(new AuditEvent("a", "one", "x"));
        await store.AppendAsync(new AuditEvent("a", "two", "y"));
        await store.AppendAsync(new AuditEvent("a", "three", "z"));
        Assert.True((await AuditChain.VerifyAsync(store.ReadAllAsync())).Intact);
        await using (var c = await db.OpenConnectionAsync())
        {
            await c.ExecuteAsync("alter table audit_log disable trigger audit_log_no_update");
            await c.ExecuteAsync("update audit_log set subject = 'forged' where seq = 2");
        }
        var v = await AuditChain.VerifyAsync(store.ReadAllAsync());
        Assert.False(v.Intact);
        Assert.Equal(2, v.FirstBadSequence);
        await store.DisposeAsync();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Migrations_are_safe_when_two_instances_start_at_once()
    {
        await using var fresh = await PostgresDatabase.CreateAsync();
        await using var db1 = NpgsqlDataSource.Create(fresh.ConnectionString);
        await using var db2 = NpgsqlDataSource.Create(fresh.ConnectionString);
        var results = await Task.WhenAll(MigrationRunner.ApplyAsync(db1), MigrationRunner.ApplyAsync(db2));
        Assert.Equal(1, results.Count(r => r.Count > 0));
        Assert.Equal(results.Sum(r => r.Count), (await MigrationRunner.ApplyAsync(db1)).Count + results.Max(r => r.Count));
    }

    [Fact]
    public async Task Software_keys_are_encrypted_at_rest_and_readable_by_openssl_with_the_passphrase()
    {
        var file = Directory.GetFiles(fx.KeyDir).First();
        var text = await File.ReadAllTextAsync(file);
        Assert.Contains("BEGIN ENCRYPTED PRIVATE KEY", text);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var (code, output) = OpenSsl.Run("pkey", "-in", file, "-passin", "pass:test passphrase", "-noout");
        Assert.True(code == 0, output);
        var (bad, _) = OpenSsl.Run("pkey", "-in", file, "-passin", "pass:wrong", "-noout");
        Assert.NotEqual(0, bad);
    }
}
