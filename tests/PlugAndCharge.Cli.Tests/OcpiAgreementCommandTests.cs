using Xunit;

namespace PlugAndCharge.Cli.Tests;

/// <summary>
/// <c>pnc ocpi agreement</c> on a real PostgreSQL: record, list, suspend, resume and end a roaming agreement; mistakes
/// are one line and exit code 2.
/// </summary>
public sealed class OcpiAgreementCommandTests : PncCommandTest
{
    [Fact]
    public async Task Add_list_suspend_resume_and_end_an_agreement()
    {
        var add = await Pnc("ocpi", "agreement", "add", "--cpo", "NL-GRN", "--emsp", "DE-SMP", "--scopes", "tokens,real-time-authorization,plug-and-charge",
            "--valid-to", "2099-01-01T00:00:00Z");
        Assert.True(add.Exit == 0, add.Err + add.Out);
        var id = add.Out.Split('\t')[0];
        Assert.Contains("CPO NL-GRN\teMSP DE-SMP\tactive\t..2099-01-01T00:00:00Z\ttokens,real-time-authorization,plug-and-charge\tv0", add.Out);

        foreach (var (verb, status, version) in new[] { ("suspend", "suspended", "v1"), ("resume", "active", "v2"), ("end", "ended", "v3") })
        {
            var r = await Pnc("ocpi", "agreement", verb, id);
            Assert.True(r.Exit == 0, r.Err);
            Assert.Contains($"\t{status}\t", r.Out);
            Assert.EndsWith(version + "\n", r.Out.Replace("\r", ""), StringComparison.Ordinal);
        }
        var list = await Pnc("ocpi", "agreement", "list");
        Assert.Single(list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\tended\t", list.Out);

        // Mistakes: a bad party, an unknown scope, an ended agreement, an unknown id.
        Assert.Equal(2, (await Pnc("ocpi", "agreement", "add", "--cpo", "NLGR", "--emsp", "DE-SMP")).Exit);
        var scope = await Pnc("ocpi", "agreement", "add", "--cpo", "NL-GRN", "--emsp", "DE-SMP", "--scopes", "everything");
        Assert.Equal(2, scope.Exit);
        Assert.Contains("'everything' is not an agreement scope", scope.Err);
        Assert.Equal(2, (await Pnc("ocpi", "agreement", "resume", id)).Exit);
        Assert.Equal(2, (await Pnc("ocpi", "agreement", "suspend", "nope")).Exit);
    }
}
