using Npgsql;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Ocpp;
using PlugAndCharge.Tests;
using Xunit;
using PlugAndCharge.TestSupport.Ocpp;

namespace PlugAndCharge.Ocpp.Tests.Storage;

public sealed class StationDatabase : IAsyncLifetime
{
    private PostgresDatabase? _database;
    public NpgsqlDataSource Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        Db = NpgsqlDataSource.Create(_database.ConnectionString);
        await MigrationRunner.ApplyAsync(Db);
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        if (_database != null) await _database.DisposeAsync();
    }
}

/// <summary>Stations on PostgreSQL: registration, password records at rest, boots, the profile-2 constraint.</summary>
public sealed class PostgresStationStoreTests(StationDatabase database) : IClassFixture<StationDatabase>
{
    private PostgresStationStore Store => new(database.Db);

    private static StationRecord Station(string id, string cpo = "cpo-1", SecurityProfile profile = SecurityProfile.TlsWithBasicAuth) => new()
    {
        StationId = id, CpoId = cpo, CpoOrganization = "CPO One GmbH", SecurityProfile = profile,
        PasswordHash = profile == SecurityProfile.TlsWithBasicAuth ? StationPassword.Hash("correct-horse-battery", 1000) : null,
    };

    [Fact]
    public async Task A_station_round_trips_and_its_password_is_stored_only_as_a_PBKDF2_record()
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..8];
        await Store.SaveAsync(Station(id));
        var found = await Store.FindAsync(id);

        Assert.NotNull(found);
        Assert.Equal(("cpo-1", "CPO One GmbH", SecurityProfile.TlsWithBasicAuth), (found.CpoId, found.CpoOrganization, found.SecurityProfile));
        Assert.StartsWith("pbkdf2-sha256$1000$", found.PasswordHash);
        Assert.DoesNotContain("correct-horse-battery", found.PasswordHash);
        Assert.True(StationPassword.Verify("correct-horse-battery"u8, found.PasswordHash));
        Assert.False(StationPassword.Verify("correct-horse-batterY"u8, found.PasswordHash));
        Assert.True(found.RegisteredAt > DateTimeOffset.UtcNow.AddMinutes(-5));

        await using var conn = await database.Db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from ocpp_stations where password_hash like '%correct-horse%'", conn);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("memory")]
    public async Task Password_records_upgrade_once_when_two_instances_race_and_a_rotation_keeps_the_old_one_until_the_new_one_is_used(string kind)
    {
        IStationStore store = kind == "postgres" ? Store : new InMemoryStationStore();
        var id = "CS-" + Guid.NewGuid().ToString("N")[..8];
        var legacy = StationPassword.Hash("correct-horse-battery", 1000);
        await store.SaveAsync(Station(id) with { PasswordHash = legacy });
        Assert.Null((await store.FindAsync(id))!.PasswordChosenBy);

        // Two instances upgrade the same login at once: one conditional UPDATE wins, the other changes nothing.
        var results = await Task.WhenAll(store.ReplacePasswordHashAsync(id, legacy, "hmac-sha256$a$AAAA"), store.ReplacePasswordHashAsync(id, legacy, "hmac-sha256$b$BBBB"));
        Assert.Single(results, r => r);
        var upgraded = (await store.FindAsync(id))!.PasswordHash!;
        Assert.Contains(upgraded, new[] { "hmac-sha256$a$AAAA", "hmac-sha256$b$BBBB" });
        Assert.False(await store.ReplacePasswordHashAsync(id, legacy, "hmac-sha256$c$CCCC"));

        // A rotation: the new record is current and service-chosen, the old one kept with its deadline.
        var until = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Assert.True(await store.RotatePasswordAsync(id, "hmac-sha256$k$NEW=", until));
        var rotated = (await store.FindAsync(id))!;
        Assert.Equal(("hmac-sha256$k$NEW=", upgraded, until, StationPasswordOrigin.Service),
            (rotated.PasswordHash, rotated.PreviousPasswordHash, rotated.PreviousPasswordUntil, rotated.PasswordChosenBy));
        // Forgotten only after a login with the current record.
        Assert.False(await store.ForgetPreviousPasswordAsync(id, upgraded));
        Assert.True(await store.ForgetPreviousPasswordAsync(id, "hmac-sha256$k$NEW="));
        Assert.Equal(((string?)null, (DateTimeOffset?)null), ((await store.FindAsync(id))!.PreviousPasswordHash, (await store.FindAsync(id))!.PreviousPasswordUntil));
        Assert.False(await store.ForgetPreviousPasswordAsync(id, "hmac-sha256$k$NEW="));

        // Only profile 2 stations have a password to rotate; unknown ones nothing.
        var mtls = "CS-" + Guid.NewGuid().ToString("N")[..8];
        await store.SaveAsync(Station(mtls, profile: SecurityProfile.TlsWithClientCertificate));
        Assert.False(await store.RotatePasswordAsync(mtls, "hmac-sha256$k$X", until));
        Assert.False(await store.RotatePasswordAsync("CS-UNKNOWN", "hmac-sha256$k$X", until));
        // An operator-chosen password keeps its flag through a save.
        await store.SaveAsync(Station(mtls + "o") with { PasswordChosenBy = StationPasswordOrigin.Operator });
        Assert.Equal(StationPasswordOrigin.Operator, (await store.FindAsync(mtls + "o"))!.PasswordChosenBy);
    }

    [Fact]
    public async Task A_boot_updates_the_station_and_an_unknown_one_is_reported()
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..8];
        await Store.SaveAsync(Station(id) with { SerialNumber = "SN-REGISTERED" });
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var booted = await Store.RecordBootAsync(id, new StationBoot("PNC", "Wallbox", "SN-9", "1.2.3", at));
        Assert.Null(await Store.RecordBootAsync("CS-UNKNOWN", new StationBoot("PNC", "Wallbox", "SN-9", "1.2.3", at)));
        var found = (await Store.FindAsync(id))!;
        Assert.Equal(("PNC", "Wallbox", "SN-9", "1.2.3", at), (found.Vendor, found.Model, found.ReportedSerialNumber, found.FirmwareVersion, found.LastBootAt));
        // What the boot returns is the station as stored, disabled or not.
        Assert.Equal(found, booted);
        await Store.DisableAsync(id, at, "withdrawn");
        Assert.NotNull((await Store.RecordBootAsync(id, new StationBoot("PNC", "Wallbox", "SN-9", "1.2.3", at)))!.DisabledAt);
        // The announced serial never replaces the one the CPO registered (issue 21).
        Assert.Equal("SN-REGISTERED", found.SerialNumber);
    }

    [Fact]
    public async Task Client_certificates_are_bound_to_a_station_and_go_with_it()
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..8];
        var sha = new string('a', 64);
        var binding = new StationClientCertificate
        {
            StationId = id, Sha256 = sha, CpoId = "cpo-1", Origin = StationCertificateOrigin.Issued, IssuerId = "iso2-cpo-subca2", Serial = "1f",
            NotAfter = new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero),
        };
        Assert.False(await Store.AddClientCertificateAsync(binding));
        await Store.SaveAsync(Station(id, profile: SecurityProfile.TlsWithClientCertificate));
        Assert.True(await Store.AddClientCertificateAsync(binding));
        var found = await Store.FindClientCertificateAsync(id, sha);
        Assert.Equal(binding with { CreatedAt = found!.CreatedAt }, found);
        Assert.Null(await Store.FindClientCertificateAsync(id, new string('b', 64)));
        Assert.Null(await Store.FindClientCertificateAsync("CS-OTHER", sha));

        // A station registered again under the same id does not inherit the old bindings.
        Assert.True(await Store.DeleteAsync(id));
        await Store.SaveAsync(Station(id, "cpo-2", SecurityProfile.TlsWithClientCertificate));
        Assert.Null(await Store.FindClientCertificateAsync(id, sha));
    }

    [Fact]
    public async Task Stations_are_listed_per_CPO_replaced_and_deleted()
    {
        var prefix = "L" + Guid.NewGuid().ToString("N")[..6];
        var cpo = "cpo-" + prefix;
        await Store.SaveAsync(Station(prefix + "-1", cpo));
        await Store.SaveAsync(Station(prefix + "-2", cpo, SecurityProfile.TlsWithClientCertificate));
        await Store.SaveAsync(Station(prefix + "-2", cpo) with { CpoOrganization = "Renamed" });

        var listed = await Store.ListAsync(cpo);
        Assert.Equal([prefix + "-1", prefix + "-2"], listed.Select(s => s.StationId));
        Assert.Equal("Renamed", listed[1].CpoOrganization);
        Assert.True(await Store.DeleteAsync(prefix + "-1"));
        Assert.False(await Store.DeleteAsync(prefix + "-1"));
        Assert.Single(await Store.ListAsync(cpo));
    }

    [Fact]
    public async Task Adding_never_replaces_a_registered_station()
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await Store.AddAsync(Station(id, "cpo-first")));
        Assert.False(await Store.AddAsync(Station(id, "cpo-second")));
        Assert.Equal("cpo-first", (await Store.FindAsync(id))!.CpoId);

        var memory = new InMemoryStationStore();
        Assert.True(await memory.AddAsync(Station(id, "cpo-first")));
        Assert.False(await memory.AddAsync(Station(id, "cpo-second")));
        Assert.Equal("cpo-first", (await memory.FindAsync(id))!.CpoId);
    }

    [Fact]
    public async Task A_profile_2_station_without_a_password_record_is_refused_by_the_database()
    {
        var station = Station("CS-" + Guid.NewGuid().ToString("N")[..8]) with { PasswordHash = null };
        await Assert.ThrowsAsync<PostgresException>(() => Store.SaveAsync(station));
    }
}
