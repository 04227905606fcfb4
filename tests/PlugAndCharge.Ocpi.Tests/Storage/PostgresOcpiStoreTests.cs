using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Ocpi;
using PlugAndCharge.Tests;
using Xunit;
using PlugAndCharge.Contracts.Contracts;

namespace PlugAndCharge.Ocpi.Tests.Storage;

/// <summary>A fresh database with all migrations and the development PKI (for real contract certificates).</summary>
public sealed class OcpiDatabaseFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;
    public PostgresPkiStore Pki { get; private set; } = null!;
    public CertificateAuthorityServices Ca { get; private set; } = null!;
    /// <summary>The data-at-rest key every hub instance of a test shares (token B survives a restart only with the same key).</summary>
    public byte[] DataAtRestKey { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    private readonly string _keyDir = Directory.CreateTempSubdirectory("pnc-ocpi-keys").FullName;

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        (Db, Pki) = await PkiDatabase.OpenAsync(Database.ConnectionString);
        var keys = new KeyProviderRegistry([new SoftwareKeyProvider(_keyDir, () => "test passphrase", iterations: 1000)]);
        Ca = new CertificateAuthorityServices(Pki, Pki, Pki, keys, null, new PkiOptions());
        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, "test");
    }

    public Task<IssuedCertificate> IssueContractAsync(string cn, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Actor = "test", Validity = validity,
            PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()), Subject = new X509Name($"CN={cn},DC=MO"),
        });
    }

    public async Task DisposeAsync()
    {
        await Pki.DisposeAsync();
        await Db.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(_keyDir, recursive: true);
    }
}

public sealed class PostgresOcpiStoreTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    private static PartyRecord Party(string id, string cc, string pid, params string[] prefixes) => new()
    {
        Id = id, Name = "Party " + id, Roles = [new PartyRole(Roles.Emsp, cc, pid, "Biz")], ProviderPrefixes = prefixes,
        IncomingTokenHash = CredentialsTokens.Hash("token-" + id), IncomingTokenKind = CredentialsTokenKind.A,
        Timeout = TimeSpan.FromMilliseconds(1500), UpdatedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public async Task Parties_round_trip_and_roles_prefixes_and_tokens_stay_unique()
    {
        var store = new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey);
        var a = Party("pa1", "DE", "AAA", "DEAAA");
        await store.CreateAsync(a);
        var registered = a with
        {
            Status = PartyStatus.Connected, Version = "2.2.1", VersionsUrl = "https://emsp.example/ocpi/versions", OutgoingToken = "token-b",
            Endpoints = [new PartyEndpoint("tokens", "SENDER", "https://emsp.example/ocpi/2.2.1/tokens")],
            IncomingTokenHash = CredentialsTokens.Hash("token-c"), IncomingTokenKind = CredentialsTokenKind.C,
            Roles = [new PartyRole(Roles.Emsp, "DE", "AAA", "Biz"), new PartyRole(Roles.Cpo, "DE", "AAB")], ProviderPrefixes = ["DEAAA", "DEAA2"],
            LastSeenAt = new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero),
        };
        await store.UpdateAsync(registered);

        var loaded = (await store.ListAsync()).Single(p => p.Id == "pa1");
        Assert.Equal(PartyStatus.Connected, loaded.Status);
        Assert.Equal("token-b", loaded.OutgoingToken);
        // Token B is not in the database in clear, and another key cannot read it.
        await using (var conn = await fx.Db.OpenConnectionAsync())
        {
            var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(conn, "select outgoing_token from ocpi_parties where id = 'pa1'");
            Assert.StartsWith("v1:", stored, StringComparison.Ordinal);
            Assert.DoesNotContain("token-b", stored, StringComparison.Ordinal);
        }
        var otherKey = new PostgresOcpiPartyStore(fx.Db, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(() => otherKey.ListAsync());
        Assert.Equal(CredentialsTokens.Hash("token-c"), loaded.IncomingTokenHash);
        Assert.Equal(CredentialsTokenKind.C, loaded.IncomingTokenKind);
        Assert.Equal(registered.Roles, loaded.Roles);
        Assert.Equal(["DEAA2", "DEAAA"], loaded.ProviderPrefixes.Order());
        Assert.Equal(registered.Endpoints, loaded.Endpoints);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), loaded.Timeout);
        Assert.Equal(registered.LastSeenAt, loaded.LastSeenAt);
        Assert.True(loaded.IsRegistered);

        await Assert.ThrowsAsync<OcpiConflictException>(() => store.CreateAsync(Party("pa1", "FR", "XXX")));
        await Assert.ThrowsAsync<OcpiConflictException>(() => store.CreateAsync(Party("pa2", "de", "aaa")));
        await Assert.ThrowsAsync<OcpiConflictException>(() => store.CreateAsync(Party("pa3", "FR", "YYY", "DEAAA")));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.UpdateAsync(Party("nope", "FR", "ZZZ")));
        // A failed write leaves nothing half-written.
        Assert.DoesNotContain(await store.ListAsync(), p => p.Id is "pa2" or "pa3");
    }

    private static string TokenJson(string uid, string whitelist) =>
        $$"""{"country_code":"NL","party_id":"TOK","uid":"{{uid}}","type":"RFID","contract_id":"{{uid}}","issuer":"t","valid":true,"whitelist":"{{whitelist}}","last_updated":"2026-03-01T00:00:00Z"}""";

    [Fact]
    public async Task Tokens_are_upserted_found_and_paged_by_last_updated()
    {
        var store = new PostgresOcpiTokenStore(fx.Db);
        var t0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
            Assert.True(await store.PutAsync(new StoredToken("NL", "TOK", $"U{i}", "RFID", "ALLOWED", t0.AddHours(i), TokenJson($"U{i}", "ALLOWED"))));
        Assert.False(await store.PutAsync(new StoredToken("NL", "TOK", "U0", "RFID", "ALLOWED_OFFLINE", t0.AddHours(10), TokenJson("U0", "ALLOWED_OFFLINE"))));

        var u0 = await store.GetAsync("nl", "tok", "U0", "rfid");
        Assert.Equal("ALLOWED_OFFLINE", u0!.Whitelist);
        Assert.Contains("ALLOWED_OFFLINE", u0.Json);
        Assert.Equal("TOK", (await store.FindAsync("U3", "RFID"))!.PartyId);
        Assert.Null(await store.FindAsync("U3", "EMAID"));

        var page = await store.ListAsync(new TokenQuery(t0, t0.AddHours(4), 1, 2, "NL", "TOK"));
        Assert.Equal(3, page.Total); // U1, U2, U3 (U0 moved to +10h, U4 is at the exclusive date_to)
        Assert.Equal(["U2", "U3"], page.Items.Select(t => t.Uid));
        var empty = await store.ListAsync(new TokenQuery(null, null, 100, 10, "NL", "TOK"));
        Assert.Empty(empty.Items);
        Assert.Equal(5, empty.Total);
    }

    [Fact]
    public async Task Contract_status_comes_from_the_PKI_records_of_contract_certificates()
    {
        var source = new PostgresContractCertificateStatus(fx.Db);
        var emaid = Emaid.Create("DE", "8PG", "C00000001");
        var issued = await fx.IssueContractAsync(emaid.Normalized);

        var active = await source.GetAsync(emaid);
        Assert.True(active.Known);
        Assert.Equal(ContractCertificateState.Valid, active.Certificate);
        Assert.Equal(issued.Record.NotAfter, active.CertificateNotAfter);
        // Found with or without the check character, in any case.
        Assert.True((await source.GetAsync(Emaid.Parse("de8pgc00000001", IdentifierStrictness.Lenient))).Known);

        await fx.Ca.Revoker.RevokeAsync(issued.Record.IssuerId, issued.Record.Serial, RevocationReason.CessationOfOperation, "test");
        Assert.Equal(ContractCertificateState.Revoked, (await source.GetAsync(emaid)).Certificate);

        // The renewal supersedes the revoked certificate.
        await Task.Delay(1100); // a later notBefore (second resolution)
        await fx.IssueContractAsync(emaid.Normalized);
        Assert.NotEqual(ContractCertificateState.Revoked, (await source.GetAsync(emaid)).Certificate);

        Assert.False((await source.GetAsync(Emaid.Create("DE", "8PG", "C99999999"))).Known);
    }

    [Fact]
    public async Task The_hub_over_PostgreSQL_keeps_its_parties_across_a_restart_and_refuses_a_revoked_contract()
    {
        var emaid = Emaid.Create("DE", "8HB", "C00000001");
        var issued = await fx.IssueContractAsync(emaid.Normalized);
        await fx.Ca.Revoker.RevokeAsync(issued.Record.IssuerId, issued.Record.Serial, RevocationReason.KeyCompromise, "test");
        void Postgres(IServiceCollection s)
        {
            s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
            s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
            s.AddSingleton<IContractStatusSource>(new PostgresContractCertificateStatus(fx.Db));
        }

        var traffic = new TrafficLog();
        await using var cpo = await FakeParty.StartAsync(Roles.Cpo, "NL", "PGC", OcpiVersion.V230, traffic);
        await using var emsp = await FakeParty.StartAsync(Roles.Emsp, "DE", "PGE", OcpiVersion.V221, traffic);
        await using (var hub = await HubHost.StartAsync(services: Postgres))
        {
            var (_, cpoA) = await hub.Admin.CreateAsync(new PartyAdministration.NewParty("CPO", [new PartyRole(Roles.Cpo, "NL", "PGC")]));
            var (_, emspA) = await hub.Admin.CreateAsync(new PartyAdministration.NewParty("eMSP", [new PartyRole(Roles.Emsp, "DE", "PGE")], ["DE8HB"]));
            await cpo.RegisterAsync(hub.VersionsUrl, cpoA);
            await emsp.RegisterAsync(hub.VersionsUrl, emspA);
            using var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/PGE/CARD1?type=RFID", emsp.Token("CARD1", "RFID"));
            Assert.Equal(1000, (await put.EnvelopeAsync())["status_code"]!.GetValue<int>());
        }

        // A new hub process on the same database: same parties, same tokens C, same pushed tokens.
        await using var restarted = await HubHost.StartAsync(services: Postgres);
        var cpoTokens = cpo.Hub("tokens", "SENDER").Replace(new Uri(cpo.Hub("tokens", "SENDER")).GetLeftPart(UriPartial.Authority), restarted.BaseUrl);
        using var pulled = await cpo.CallAsync(HttpMethod.Get, cpoTokens);
        Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        Assert.Contains((await pulled.EnvelopeAsync())["data"]!.AsArray(), t => t!["uid"]!.GetValue<string>() == "CARD1");

        using var revoked = await cpo.CallAsync(HttpMethod.Post, $"{cpoTokens}/{emaid.Normalized}/authorize?type=EMAID");
        Assert.Equal("BLOCKED", (await revoked.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        Assert.Equal(0, emsp.AuthorizeCalls);
        using var card = await cpo.CallAsync(HttpMethod.Post, $"{cpoTokens}/CARD1/authorize?type=RFID");
        Assert.Equal("ALLOWED", (await card.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        Assert.Equal(1, emsp.AuthorizeCalls);
        traffic.AssertConformant(8);
    }

    [Fact]
    public async Task Two_hub_instances_on_one_database_see_each_others_parties()
    {
        void Postgres(IServiceCollection s)
        {
            s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
            s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
        }
        var traffic = new TrafficLog();
        await using var one = await HubHost.StartAsync(o => o.PartyRefreshInterval = TimeSpan.FromMilliseconds(200), Postgres);
        await using var two = await HubHost.StartAsync(o => o.PartyRefreshInterval = TimeSpan.FromMilliseconds(200), Postgres);
        Assert.NotNull(await two.Admin.ListAsync()); // instance two has loaded its view before the party exists

        // Created and registered on instance one; its first call to instance two is recognized (reload on unknown token).
        await using var emsp = await FakeParty.StartAsync(Roles.Emsp, "DE", "TWO", OcpiVersion.V230, traffic);
        var (record, tokenA) = await one.Admin.CreateAsync(new PartyAdministration.NewParty("eMSP two", [new PartyRole(Roles.Emsp, "DE", "TWO")]));
        await emsp.RegisterAsync(one.VersionsUrl, tokenA);
        using (var viaTwo = await emsp.CallAsync(HttpMethod.Get, two.VersionsUrl)) Assert.Equal(HttpStatusCode.OK, viaTwo.StatusCode);

        // Provider prefixes set on instance one reach instance two's routing after its refresh interval.
        await one.Admin.SetProviderPrefixesAsync(record.Id, ["DETWO"]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await two.Services.GetRequiredService<PartyDirectory>().FindByProviderPrefixAsync("DETWO")) is null && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(record.Id, (await two.Services.GetRequiredService<PartyDirectory>().FindByProviderPrefixAsync("DETWO"))!.Id);

        // An update made on instance two starts from what instance one stored (no lost update of the prefixes).
        await two.Admin.SuspendAsync(record.Id);
        var stored = (await new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey).ListAsync()).Single(p => p.Id == record.Id);
        Assert.Equal(PartyStatus.Suspended, stored.Status);
        Assert.Equal(["DETWO"], stored.ProviderPrefixes);
    }
}
