using System.CommandLine;
using Xunit;

namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>Every verb of pnc is documented: in the overview, in its group's help, and in its own --help.</summary>
public sealed class HelpTests
{
    /// <summary>Every verb and sub-verb of the tree, as its path ("cert verify").</summary>
    public static TheoryData<string> Verbs()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in Walk(PncCommandLine.Create())) data.Add(path);
        return data;
    }

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path = "")
    {
        foreach (var verb in command.Subcommands)
        {
            var p = (path + " " + verb.Name).Trim();
            yield return (p, verb);
            foreach (var below in Walk(verb, p)) yield return below;
        }
    }

    [Fact]
    public void Every_verb_option_and_argument_has_a_description()
    {
        var undocumented = Walk(PncCommandLine.Create())
            .SelectMany(v => new[] { (v.Path, Symbol: (Symbol)v.Command) }
                .Concat(v.Command.Options.Select(o => (v.Path, Symbol: (Symbol)o)))
                .Concat(v.Command.Arguments.Select(a => (v.Path, Symbol: (Symbol)a))))
            .Where(s => string.IsNullOrWhiteSpace(s.Symbol.Description))
            .Select(s => $"{s.Path}: {s.Symbol.Name}")
            .ToList();
        Assert.Empty(undocumented);
    }

    /// <summary>The overview names every verb, and each group's help every sub-verb, with its description.</summary>
    [Fact]
    public async Task The_overview_lists_every_verb()
    {
        foreach (var (path, command) in Walk(PncCommandLine.Create()).Prepend(("", PncCommandLine.Create())))
        {
            if (command.Subcommands.Count == 0) continue;
            var help = await PncRun.Run([.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
            Assert.Equal(0, help.Exit);
            var commands = help.Out[help.Out.IndexOf("Commands:", StringComparison.Ordinal)..];
            foreach (var verb in command.Subcommands)
                Assert.Matches($@"\n  {verb.Name}\b[^\n]*{System.Text.RegularExpressions.Regex.Escape(verb.Description!.Split(' ')[0])}", commands);
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Help_on_each_verb_shows_its_usage_and_every_option(string path)
    {
        var verb = Walk(PncCommandLine.Create()).Single(v => v.Path == path).Command;
        var (exit, output, error) = await PncRun.Run([.. path.Split(' '), "--help"]);
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains($"Usage:\n  pnc {path}", output.ReplaceLineEndings("\n"));
        foreach (var option in verb.Options) Assert.Contains(option.Name, output);
        foreach (var argument in verb.Arguments) Assert.Contains($"<{argument.HelpName ?? argument.Name}>", output);
        // `pnc help VERB` is the same page.
        Assert.Equal(output, (await PncRun.Run(["help", .. path.Split(' ')])).Out);
    }

    [Fact]
    public async Task Bare_pnc_prints_the_overview_as_a_mistake()
    {
        var (exit, output, _) = await PncRun.Run();
        Assert.Equal(2, exit);
        Assert.Equal((await PncRun.Run("--help")).Out, output);
        Assert.Contains("Commands:", output);
    }
}
