using Xunit;

namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>Command-line mistakes: one clear line each on stderr, exit code 2, nothing on stdout, nothing started.</summary>
public sealed class UsageErrorTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "pnc-usage-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }

    private static void AssertMistake((int Exit, string Out, string Err) run, string expected)
    {
        Assert.Equal(2, run.Exit);
        Assert.Equal("", run.Out);
        Assert.Equal($"pnc: {expected}", run.Err.TrimEnd());
    }

    [Fact]
    public async Task An_unknown_option_is_refused_before_the_database_opens()
    {
        // A database verb: the mistake is reported before the managed PostgreSQL would be started under --home.
        AssertMistake(await PncRun.Run("pki", "list", "--home", _home, "--colour", "red"), "Unrecognized command or argument '--colour'.\npnc: Unrecognized command or argument 'red'.");
        Assert.False(Directory.Exists(_home));
        AssertMistake(await PncRun.Run("cert", "verify", "leaf.pem", "--trust", "root.pem", "--iso-15118"), "Unrecognized command or argument '--iso-15118'.");
        // An option of another verb is unknown here: cert lint opens no database, so it takes no --db.
        AssertMistake(await PncRun.Run("cert", "lint", "leaf.pem", "--profile", "iso2/contract", "--db", "Host=x"),
            "Unrecognized command or argument '--db'.\npnc: Unrecognized command or argument 'Host=x'.");
    }

    [Fact]
    public async Task A_missing_required_argument_or_option_is_named()
    {
        AssertMistake(await PncRun.Run("cert", "revoke", "--reason", "keyCompromise", "--home", _home), "Required argument 'SERIAL' missing for command: 'revoke'.");
        AssertMistake(await PncRun.Run("cert", "lint", "leaf.pem"), "Option '--profile' is required.");
        AssertMistake(await PncRun.Run("cert", "verify", "leaf.pem", "--trust"), "Required argument missing for option: '--trust'.");
        AssertMistake(await PncRun.Run("pki", "subca", "--id", "x", "--profile", "iso2/mo-subca1", "--parent", "iso2-mo-root", "--key", "file:k.p8", "--home", _home),
            "Option '--csr' is required.");
        Assert.False(Directory.Exists(_home));
    }

    [Fact]
    public async Task Unknown_or_missing_verbs_and_bad_values_are_mistakes()
    {
        AssertMistake(await PncRun.Run("frobnicate"), "Unrecognized command or argument 'frobnicate'.");
        AssertMistake(await PncRun.Run("cert", "sign"), "Unrecognized command or argument 'sign'.");
        AssertMistake(await PncRun.Run("cert"), "Missing cert subcommand (issue, revoke, lint, verify).");
        AssertMistake(await PncRun.Run("pki"), "Missing pki subcommand (init, list, csr, subca).");
        AssertMistake(await PncRun.Run("pki", "init", "--standard", "iso3", "--home", _home), "Argument 'iso3' not recognized. Must be one of: 'iso2' 'iso20'");
        AssertMistake(await PncRun.Run("cert", "issue", "--profile", "iso2/contract", "--csr", "c.csr", "--days", "ten", "--home", _home),
            "--days 'ten' is not a whole number of days.");
        AssertMistake(await PncRun.Run("cert", "verify", "leaf.pem", "--trust", "root.pem", "--emaid", "DE8AAC12345678"), "--emaid needs --iso15118.");
        Assert.False(Directory.Exists(_home));
        // exi keeps its own prefix.
        var exi = await PncRun.Run("exi", "decode", "80", "--schema", "iso99");
        Assert.Equal(2, exi.Exit);
        Assert.StartsWith("pnc exi: unknown schema 'iso99'", exi.Err);
    }
}
