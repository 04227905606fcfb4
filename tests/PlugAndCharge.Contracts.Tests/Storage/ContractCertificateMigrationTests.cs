using Dapper;
using Npgsql;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Contracts;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Storage;

/// <summary>An upgrade of a database that holds contracts written before their certificates had rows of their own.</summary>
public class ContractCertificateMigrationTests
{
    private static readonly string[] Before0006 = ["0001_pki.sql", "0002_participants.sql", "0003_contracts.sql", "0004_ocpi.sql", "0005_ocpp.sql"];

    [Fact]
    public async Task Migration_0006_moves_each_certificate_with_its_keys_and_signed_data_into_a_row_of_its_own()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var db = StorageDataSource.Create(database.ConnectionString);
        var (withCertificate, without) = (Guid.NewGuid(), Guid.NewGuid());
        var notBefore = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        await using (var conn = await db.OpenConnectionAsync())
        {
            // The schema as the version before 0006 left it.
            await conn.ExecuteAsync("create table schema_migrations (name text primary key, applied_at timestamptz not null default now())");
            foreach (var name in Before0006)
            {
                using var reader = new StreamReader(typeof(MigrationRunner).Assembly.GetManifestResourceStream("migrations/" + name)!);
                await conn.ExecuteAsync(await reader.ReadToEndAsync());
                await conn.ExecuteAsync("insert into schema_migrations(name) values (@name)", new { name });
            }
            await conn.ExecuteAsync("""
                insert into contracts(id, emaid, pcid, emsp_id, standard, origin, is_default, state, cert_issuer_id, cert_serial, cert_der, cert_sub_ca_ders,
                    cert_not_before, cert_not_after, cert_key_algorithm, wrapped_private_key, vehicle_encrypted_key, dh_public_key, signed_data, created_at, updated_at)
                values (@withCertificate, 'DE8AAC000000019', 'PCID1', 'DE8AA', 'Iso15118_2', 'HubIssued', true, 'Active', 'iso2-mo-subca2', 'abc', '\x01',
                        array['\x02'::bytea, '\x03'::bytea], @notBefore, @notBefore + interval '1 year', 'EcP256', '\x04', '\x05', '\x06', '\x07', @notBefore, @notBefore),
                       (@without, 'DE8AAC000000027', 'PCID2', 'DE8AA', 'Iso15118_2', 'HubIssued', true, 'Active', null, null, null, null,
                        null, null, null, null, null, null, null, @notBefore, @notBefore)
                """, new { withCertificate, without, notBefore });
        }

        var applied = await MigrationRunner.ApplyAsync(db);
        Assert.Contains("0006_contract_certificates.sql", applied);

        await using var store = new PostgresContractStore(db);
        var moved = (await store.GetContractAsync(withCertificate))!;
        var c = moved.Certificate!;
        Assert.Equal(("iso2-mo-subca2", "abc", KeyAlgorithm.EcP256), (c.IssuerId, c.Serial, c.KeyAlgorithm));
        Assert.Equal(new byte[] { 1 }, c.Der);
        Assert.Equal([[2], [3]], c.SubCaDers);
        Assert.Equal(new DateTimeOffset(notBefore), c.NotBefore);
        Assert.Equal(new byte[] { 4 }, c.WrappedPrivateKey);
        Assert.Equal(new byte[] { 5 }, c.VehicleEncryptedKey);
        Assert.Equal(new byte[] { 6 }, c.DhPublicKey);
        Assert.Equal(new byte[] { 7 }, moved.SignedData);
        Assert.Null((await store.GetContractAsync(without))!.Certificate);
        Assert.Equal(ContractState.Active, moved.State);
    }
}
