using Xunit;

namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>Tests that set PNC_* variables of the whole process run alone, after the others.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

/// <summary>--db, --home and --public-url win over PNC_DATABASE, PNC_HOME and PNC_PUBLIC_URL, which win over the defaults.</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class SettingsTests
{
    private static readonly string[] Variables = ["PNC_DATABASE", "PNC_HOME", "PNC_PUBLIC_URL"];

    private static void WithEnvironment(string? database, string? home, string? publicUrl, Action check)
    {
        var saved = Variables.Select(Environment.GetEnvironmentVariable).ToArray();
        try
        {
            Environment.SetEnvironmentVariable("PNC_DATABASE", database);
            Environment.SetEnvironmentVariable("PNC_HOME", home);
            Environment.SetEnvironmentVariable("PNC_PUBLIC_URL", publicUrl);
            check();
        }
        finally
        {
            for (var i = 0; i < Variables.Length; i++) Environment.SetEnvironmentVariable(Variables[i], saved[i]);
        }
    }

    /// <summary>The settings a verb's parsed options resolve to, read the way each database verb reads them.</summary>
    private static PncSettings Parsed(params string[] args)
    {
        var parsed = PncCommandLine.Create().Parse(["audit", "verify", .. args], CommandLineUsage.Parser);
        Assert.Empty(parsed.Errors);
        return PncSettings.Resolve(parsed.GetValue<string>("--home"), parsed.GetValue<string>("--db"), parsed.GetValue<string>("--public-url"));
    }

    [Fact]
    public void Options_then_environment_then_defaults()
    {
        WithEnvironment(null, null, null, () =>
        {
            var defaults = Parsed();
            Assert.Equal(Path.Combine(Directory.GetCurrentDirectory(), ".pnc"), defaults.Home);
            Assert.Null(defaults.Database);
            Assert.True(defaults.ManagedDatabase);
            Assert.Equal("http://localhost:5080", defaults.PublicUrl);
            Assert.Equal("http://localhost:6080", PncSettings.Resolve(null, null, null, "http://localhost:6080").PublicUrl); // pnc serve's first listener
        });
        WithEnvironment("Host=env", "/tmp/env-home", "https://pki.example.com", () =>
        {
            var fromEnvironment = Parsed();
            Assert.Equal(("/tmp/env-home", "Host=env", "https://pki.example.com", false),
                (fromEnvironment.Home, fromEnvironment.Database, fromEnvironment.PublicUrl, fromEnvironment.ManagedDatabase));
            var fromOptions = Parsed("--db", "Host=option", "--home=/tmp/option-home", "--public-url", "https://ca.example.com");
            Assert.Equal(("/tmp/option-home", "Host=option", "https://ca.example.com"), (fromOptions.Home, fromOptions.Database, fromOptions.PublicUrl));
            // An empty --db still means the managed database, as before.
            Assert.True(Parsed("--db", "").ManagedDatabase);
        });
    }
}
