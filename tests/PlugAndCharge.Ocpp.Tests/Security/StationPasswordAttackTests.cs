using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpp.Operator;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Security;

/// <summary>
/// Issue 26, station credentials fit for machines, attacked at the OCPP-J WebSocket handshake with the npm ocpp-rpc
/// client and HTTP Basic auth: keyed records log in only their own station under this server's key, PBKDF2 records
/// are upgraded at their next login unless the operator chose the password, and a rotation over OCPP (2.0.1
/// SetVariables BasicAuthPassword, 1.6 ChangeConfiguration AuthorizationKey) moves the station to a new password while
/// the old one works only until the station has used the new one.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class StationPasswordAttackTests(OcppServerFixture server)
{
    private static int _sources;

    private static object Call(string method, object payload) => new { call = method, @params = payload };

    /// <summary>One login (and a Heartbeat), each from its own loopback address so refusals here never throttle another test.</summary>
    private async Task<StationRun> LoginAsync(string stationId, string password, string protocol = "ocpp2.0.1")
    {
        var config = server.StationConfig(stationId, protocol, [Call("Heartbeat", new { })], password);
        config["localAddress"] = $"127.0.26.{Interlocked.Increment(ref _sources) % 250 + 1}";
        return await NodeStation.RunAsync(config);
    }

    private async Task<string> RegisterAsync(string? record, StationPasswordOrigin? chosenBy)
    {
        var id = "CS-" + Guid.NewGuid().ToString("N")[..10];
        await server.Stations.SaveAsync(new StationRecord
        {
            StationId = id, CpoId = OcppServerFixture.CpoId, CpoOrganization = OcppServerFixture.Organization, SecurityProfile = SecurityProfile.TlsWithBasicAuth,
            PasswordHash = record, PasswordChosenBy = chosenBy, RegisteredAt = DateTimeOffset.UtcNow,
        });
        return id;
    }

    /// <summary>A station with a password this server generated, kept as its keyed record.</summary>
    private async Task<(string Id, string Password)> RegisterGeneratedAsync()
    {
        var password = StationPasswords.Generate();
        var id = await RegisterAsync(null, StationPasswordOrigin.Service);
        await server.Stations.SaveAsync((await server.Stations.FindAsync(id))! with { PasswordHash = server.Passwords.RecordOfGenerated(id, password) });
        return (id, password);
    }

    private async Task<string?> RecordAsync(string stationId) => (await server.Stations.FindAsync(stationId))!.PasswordHash;

    [Fact]
    public async Task A_PBKDF2_record_becomes_the_keyed_hash_at_its_next_login_and_keeps_logging_the_station_in()
    {
        var id = await RegisterAsync(StationPassword.Hash(OcppServerFixture.Password, 1000), chosenBy: null);
        Assert.Equal(401, (await LoginAsync(id, "not-the-password-0000")).RefusedWithStatus);
        Assert.StartsWith("pbkdf2-sha256$", await RecordAsync(id)); // a wrong password changes nothing

        var first = await LoginAsync(id, OcppServerFixture.Password);
        Assert.True(first.Connected, first.ToString());
        var upgraded = await RecordAsync(id);
        Assert.StartsWith($"hmac-sha256${server.Passwords.Key.Id}$", upgraded);
        Assert.DoesNotContain(OcppServerFixture.Password, upgraded);

        var again = await LoginAsync(id, OcppServerFixture.Password);
        Assert.True(again.Connected, again.ToString());
        Assert.Equal(upgraded, await RecordAsync(id));
        Assert.Equal(401, (await LoginAsync(id, "not-the-password-0000")).RefusedWithStatus);
    }

    [Fact]
    public async Task An_operator_chosen_password_keeps_its_slow_record_after_logins()
    {
        var record = StationPassword.Hash(OcppServerFixture.Password, 1000);
        var id = await RegisterAsync(record, StationPasswordOrigin.Operator);
        var run = await LoginAsync(id, OcppServerFixture.Password);
        Assert.True(run.Connected, run.ToString());
        Assert.Equal(record, await RecordAsync(id));
    }

    [Fact]
    public async Task A_keyed_record_under_another_server_key_or_of_another_station_does_not_log_in()
    {
        var password = StationPasswords.Generate();
        // Made by a server with another key (a table copied between deployments): its key id is unknown here.
        var foreign = new StationPasswordKey(RandomNumberGenerator.GetBytes(32));
        var id = await RegisterAsync(foreign.Hash("ignored", Encoding.UTF8.GetBytes(password)), StationPasswordOrigin.Service);
        await server.Stations.SaveAsync((await server.Stations.FindAsync(id))! with { PasswordHash = foreign.Hash(id, Encoding.UTF8.GetBytes(password)) });
        Assert.Equal(401, (await LoginAsync(id, password)).RefusedWithStatus);

        // Made by this server, for another station, and copied onto this one.
        await server.Stations.SaveAsync((await server.Stations.FindAsync(id))! with { PasswordHash = server.Passwords.RecordOfGenerated("CS-neighbour", password) });
        Assert.Equal(401, (await LoginAsync(id, password)).RefusedWithStatus);

        // Its own record logs it in.
        await server.Stations.SaveAsync((await server.Stations.FindAsync(id))! with { PasswordHash = server.Passwords.RecordOfGenerated(id, password) });
        var run = await LoginAsync(id, password);
        Assert.True(run.Connected, run.ToString());
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp2.1")]
    [InlineData("ocpp1.6")]
    public async Task A_rotation_over_OCPP_moves_the_station_to_a_new_password_and_the_old_one_ends_with_its_first_use(string protocol)
    {
        var (id, old) = await RegisterGeneratedAsync();
        var before = await RecordAsync(id);

        var config = server.StationConfig(id, protocol, [Call("Heartbeat", new { })], old);
        config["holdUntilStdinEnds"] = true;
        config["replies"] = new Dictionary<string, object>
        {
            ["SetVariables"] = new { setVariableResult = new[] { new { attributeStatus = "Accepted", component = new { name = "SecurityCtrlr" }, variable = new { name = "BasicAuthPassword" } } } },
            ["ChangeConfiguration"] = new { status = "Accepted" },
        };
        string sent;
        await using (var station = await NodeStation.StartAsync(config))
        {
            Assert.NotNull(await server.Connected.WaitForAsync(id, TimeSpan.FromSeconds(20)));
            var rotation = await server.App.Services.GetRequiredService<StationPasswordCommands>().RotateAsync(id);
            Assert.Equal(("Accepted", true, (StationCommandException?)null), (rotation.Status, rotation.Stored, rotation.Failure));
            var report = await station.FinishAsync();
            sent = protocol == "ocpp1.6"
                ? Encoding.ASCII.GetString(Convert.FromHexString(Assert.Single(report.Received("ChangeConfiguration")) is var c && c.GetProperty("key").GetString() == "AuthorizationKey"
                    ? c.GetProperty("value").GetString()! : throw new InvalidOperationException(c.ToString())))
                : Assert.Single(Assert.Single(report.Received("SetVariables")).GetProperty("setVariableData").EnumerateArray()).GetProperty("attributeValue").GetString()!;
        }
        Assert.NotEqual(old, sent);
        Assert.Equal(protocol == "ocpp1.6" ? StationPasswords.Generated16Length : StationPasswords.GeneratedLength, sent.Length);
        var stored = (await server.Stations.FindAsync(id))!;
        Assert.Equal((before, StationPasswordOrigin.Service), (stored.PreviousPasswordHash, stored.PasswordChosenBy));
        Assert.StartsWith("hmac-sha256$", stored.PasswordHash);

        // Until the station has used the new password the old one still logs it in (it may not have reconnected yet) ...
        Assert.True((await LoginAsync(id, old, protocol)).Connected);
        var switched = await LoginAsync(id, sent, protocol);
        Assert.True(switched.Connected, switched.ToString());
        // ... and from then on only the new one does.
        Assert.Equal(401, (await LoginAsync(id, old, protocol)).RefusedWithStatus);
        Assert.Null((await server.Stations.FindAsync(id))!.PreviousPasswordHash);
        Assert.True((await LoginAsync(id, sent, protocol)).Connected);
    }

    [Fact]
    public async Task A_station_that_refuses_the_new_password_keeps_its_old_one_alone()
    {
        var (id, old) = await RegisterGeneratedAsync();
        var before = await RecordAsync(id);
        var config = server.StationConfig(id, "ocpp2.0.1", [Call("Heartbeat", new { })], old);
        config["holdUntilStdinEnds"] = true;
        config["replies"] = new Dictionary<string, object>
        {
            ["SetVariables"] = new { setVariableResult = new[] { new { attributeStatus = "Rejected", component = new { name = "SecurityCtrlr" }, variable = new { name = "BasicAuthPassword" } } } },
        };
        await using (var station = await NodeStation.StartAsync(config))
        {
            Assert.NotNull(await server.Connected.WaitForAsync(id, TimeSpan.FromSeconds(20)));
            var rotation = await server.App.Services.GetRequiredService<StationPasswordCommands>().RotateAsync(id);
            Assert.Equal(("Rejected", false), (rotation.Status, rotation.Stored));
            await station.FinishAsync();
        }
        var after = (await server.Stations.FindAsync(id))!;
        Assert.Equal((before, (string?)null), (after.PasswordHash, after.PreviousPasswordHash));
        Assert.True((await LoginAsync(id, old)).Connected);
    }

    [Fact]
    public async Task A_station_that_goes_away_before_it_answers_keeps_both_passwords_for_the_window()
    {
        var (id, old) = await RegisterGeneratedAsync();
        var before = await RecordAsync(id);
        var config = server.StationConfig(id, "ocpp2.0.1", [Call("Heartbeat", new { })], old);
        config["holdUntilStdinEnds"] = true;
        config["replies"] = new Dictionary<string, object> { ["SetVariables"] = new { ignore = 1, reply = new { } } };
        PasswordRotation rotation;
        await using (var station = await NodeStation.StartAsync(config))
        {
            Assert.NotNull(await server.Connected.WaitForAsync(id, TimeSpan.FromSeconds(20)));
            var rotating = server.App.Services.GetRequiredService<StationPasswordCommands>().RotateAsync(id);
            await Task.Delay(500);
            await station.FinishAsync();
            rotation = await rotating;
        }
        // It may have taken the new password and lost only its answer: the new record is current, the old one kept.
        Assert.Equal((null, true, StationCommandFailure.Disconnected), (rotation.Status, rotation.Stored, rotation.Failure?.Failure));
        var after = (await server.Stations.FindAsync(id))!;
        Assert.Equal(before, after.PreviousPasswordHash);
        Assert.NotEqual(before, after.PasswordHash);
        Assert.True((await LoginAsync(id, old)).Connected);
    }
}
