using Dapper;
using PlugAndCharge.Cli.Commands;
using PlugAndCharge.Pki.Revocation;
using Xunit;

namespace PlugAndCharge.Cli.Tests;

/// <summary>What the service needs at start: the CPS signing leaf survives restarts and is shared by the instances.</summary>
public sealed class ServiceBootstrapTests : PncCommandTest
{
    private async Task<PncEnvironment> OpenAsync() =>
        await PncEnvironment.OpenAsync(new PncSettings(Dir, Db.ConnectionString, PncSettings.DefaultPublicUrl), TextWriter.Null);

    [Fact]
    public async Task The_CPS_leaf_is_kept_across_restarts_and_replaced_once_revoked()
    {
        Assert.Equal(0, (await Pnc("pki", "init", "--standard", "iso2")).Exit);
        async Task<string> StartAsync(Func<PncEnvironment, Task>? before = null)
        {
            await using var env = await OpenAsync();
            if (before != null) await before(env);
            var signers = await ServiceBootstrap.CpsSignersAsync(env, default);
            return Assert.Single(signers).Leaf.SerialNumber.ToString(16);
        }

        var first = await StartAsync();
        var second = await StartAsync();
        Assert.Equal(first, second); // a restart reuses the leaf and its key

        var third = await StartAsync(env => env.Ca.Revoker.RevokeAsync("iso2-cps-subca2", first, RevocationReason.Superseded, "test"));
        Assert.NotEqual(first, third); // revoked: a new leaf

        foreach (var key in Directory.GetFiles(Path.Combine(Dir, "keys"), "cps-leaf-iso2-*")) File.Delete(key);
        var fourth = await StartAsync();
        Assert.NotEqual(third, fourth); // its key gone: a new leaf
    }

    [Fact]
    public async Task Instances_starting_together_on_one_database_share_one_CPS_leaf()
    {
        Assert.Equal(0, (await Pnc("pki", "init", "--standard", "iso2")).Exit);
        var envs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenAsync()));
        try
        {
            var started = await Task.WhenAll(envs.Select(e => Task.Run(() => ServiceBootstrap.CpsSignersAsync(e, default))));
            var serials = started.Select(s => Assert.Single(s).Leaf.SerialNumber.ToString(16)).Distinct().ToList();
            Assert.Single(serials);
            await using var conn = await envs[0].Db.OpenConnectionAsync();
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*)::int from certificates where issuer_id = 'iso2-cps-subca2' and profile_id like '%/cps-leaf'"));

            // A later instance reuses it too.
            await using var late = await OpenAsync();
            Assert.Equal(serials[0], Assert.Single(await ServiceBootstrap.CpsSignersAsync(late, default)).Leaf.SerialNumber.ToString(16));
        }
        finally
        {
            foreach (var e in envs) await e.DisposeAsync();
        }
    }
}
