using Dapper;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Ocpp;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Storage;

/// <summary>An upgrade of a database whose profile-3 stations logged in with certificates issued through SignCertificate.</summary>
public class StationIdentityMigrationTests
{
    private static readonly string[] Before0011 =
    [
        "0001_pki.sql", "0002_participants.sql", "0003_contracts.sql", "0004_ocpi.sql", "0005_ocpp.sql", "0006_contract_certificates.sql",
        "0007_serial_counter.sql", "0008_autovacuum.sql", "0009_certificate_indexes.sql", "0010_contract_certificate_history.sql",
    ];

    [Fact]
    public async Task Migration_0011_binds_each_issued_station_certificate_to_the_station_that_asked_for_it()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var db = StorageDataSource.Create(database.ConnectionString);
        byte[] mine = [1, 2, 3], lookAlike = [4, 5, 6], revoked = [7, 8, 9];
        await using (var conn = await db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("create table schema_migrations (name text primary key, applied_at timestamptz not null default now())");
            foreach (var name in Before0011)
            {
                using var reader = new StreamReader(typeof(MigrationRunner).Assembly.GetManifestResourceStream("migrations/" + name)!);
                await conn.ExecuteAsync(await reader.ReadToEndAsync());
                await conn.ExecuteAsync("insert into schema_migrations(name) values (@name)", new { name });
            }
            await conn.ExecuteAsync("""
                insert into certificate_authorities (id, profile_id, key_uri, certificate_der) values ('iso2-cpo-subca2', 'iso2/cpo-subca2', 'memory:x', '\x00');
                insert into ocpp_stations (station_id, cpo_id, cpo_organization, security_profile) values ('CS-1', 'cpo-a', 'CPO A', 3), ('CS-2', 'cpo-a', 'CPO A', 3);
                insert into certificates (issuer_id, serial, profile_id, subject, status, not_before, not_after, der, sha256) values
                    ('iso2-cpo-subca2', '01', 'ocpp/charging-station', 'CN=CS-1', 'Valid', now(), now() + interval '1 year', '\x01', sha256('\x010203')),
                    ('iso2-cpo-subca2', '02', 'ocpp/charging-station', 'CN=CS-2', 'Valid', now(), now() + interval '1 year', '\x02', sha256('\x040506')),
                    ('iso2-cpo-subca2', '03', 'ocpp/charging-station', 'CN=CS-1', 'Revoked', now(), now() + interval '1 year', '\x03', sha256('\x070809'));
                insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash) values
                    (1, now(), 'ocpp-station:CS-1', 'certificate.issue', 'iso2-cpo-subca2/01', '{}', '\x00', '\x00'),
                    (2, now(), 'ocpp-station:CS-1', 'certificate.issue', 'iso2-cpo-subca2/02', '{}', '\x00', '\x00'),
                    (3, now(), 'ocpp-station:CS-1', 'certificate.issue', 'iso2-cpo-subca2/03', '{}', '\x00', '\x00');
                """);
        }

        Assert.Contains("0011_station_identity.sql", await MigrationRunner.ApplyAsync(db));

        var store = new PostgresStationStore(db);
        string Sha(byte[] der) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(der));
        Assert.Equal("cpo-a", (await store.FindClientCertificateAsync("CS-1", Sha(mine)))?.CpoId);
        // CS-1 asked for a certificate named CS-2: it stays CS-1's, never CS-2's; a revoked one is bound to nobody.
        Assert.Null(await store.FindClientCertificateAsync("CS-2", Sha(lookAlike)));
        Assert.Null(await store.FindClientCertificateAsync("CS-1", Sha(revoked)));
    }
}
