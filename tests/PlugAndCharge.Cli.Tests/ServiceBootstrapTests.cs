using PlugAndCharge.Cli.Commands;
using PlugAndCharge.Pki.Revocation;
using Xunit;

namespace PlugAndCharge.Cli.Tests;

/// <summary>What the service needs at start that it keeps in PNC_HOME: the CPS signing leaf survives restarts.</summary>
public sealed class ServiceBootstrapTests : PncCommandTest
{
    [Fact]
    public async Task The_CPS_leaf_is_kept_across_restarts_and_replaced_once_revoked()
    {
        Assert.Equal(0, (await Pnc("pki", "init", "--standard", "iso2")).Exit);
        async Task<string> StartAsync(Func<PncEnvironment, Task>? before = null)
        {
            await using var env = await PncEnvironment.OpenAsync(new CommandLine(["--db", Db.ConnectionString, "--home", Dir], new HashSet<string>()), TextWriter.Null);
            if (before != null) await before(env);
            var signers = await ServiceBootstrap.CpsSignersAsync(env, default);
            return Assert.Single(signers).Leaf.SerialNumber.ToString(16);
        }

        var first = await StartAsync();
        var second = await StartAsync();
        Assert.Equal(first, second); // a restart reuses the leaf and its key

        var third = await StartAsync(env => env.Ca.Revoker.RevokeAsync("iso2-cps-subca2", first, RevocationReason.Superseded, "test"));
        Assert.NotEqual(first, third); // revoked: a new leaf

        File.Delete(Path.Combine(Dir, "cps-leaf-iso2.key-uri"));
        var fourth = await StartAsync();
        Assert.NotEqual(third, fourth); // its key unknown: a new leaf
    }
}
