using Xunit;

namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>
/// Shell completion through System.CommandLine's [suggest:POSITION] directive, as the bash function in
/// docs/operator-guide.md calls it: the command line without "pnc", the cursor at its end.
/// </summary>
public sealed class CompletionTests
{
    private static async Task<string[]> Suggest(string line)
    {
        var (exit, output, error) = await PncRun.Run($"[suggest:{line.Length}]", line);
        Assert.True(exit == 0, error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [Fact]
    public async Task A_verb_prefix_completes_to_the_verbs()
    {
        Assert.Equal(["cert", "crl", "ocpi"], await Suggest("c")); // suggestions contain the prefix
        Assert.Equal(["exi"], await Suggest("ex"));
        Assert.Equal(["issue", "lint", "revoke", "verify"], (await Suggest("cert ")).Where(s => !s.StartsWith('-')));
        Assert.Contains("subca", await Suggest("pki s"));
    }

    [Fact]
    public async Task Options_and_their_values_complete()
    {
        Assert.Equal(["--at", "--chain", "--crl", "--emaid", "--help", "--iso15118", "--trust"], await Suggest("cert verify --"));
        Assert.Equal(["keyCompromise"], await Suggest("cert revoke 01 --reason key"));
        Assert.Equal(["iso2", "iso20"], await Suggest("pki init --standard "));
        Assert.Contains("iso20-dc", await Suggest("exi decode 80 --schema iso20"));
    }
}
