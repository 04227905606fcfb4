using System.CommandLine;
using System.CommandLine.Help;
using PlugAndCharge.Cli.Commands;
using PlugAndCharge.Cli.Exi;

namespace PlugAndCharge.Cli;

/// <summary>pnc's verbs as one System.CommandLine tree: help, parse errors and shell completion come from it.</summary>
public static class PncCommandLine
{
    public static RootCommand Create()
    {
        var common = new CommonOptions();
        var root = new RootCommand("pnc: the PlugAndCharge certificate and contract service. Commands that use the database take " +
            "--db CONNSTRING (or PNC_DATABASE; without one, a managed local PostgreSQL under --home / PNC_HOME, default ./.pnc) and " +
            "--public-url URL (or PNC_PUBLIC_URL: the base of OCSP/CRL/CA URLs in certificates). pnc VERB --help for each verb.") { HelpName = "pnc" };
        // -h and --help only: the Windows spellings (/?, /h, -?) would fill every shell completion list. Piped help wraps
        // at 120 columns instead of not at all.
        foreach (var option in root.Options.OfType<HelpOption>().ToList()) root.Options.Remove(option);
        var help = new HelpAction();
        if (Console.IsOutputRedirected) help.MaxWidth = 120;
        root.Options.Add(new HelpOption("--help", "-h") { Action = help });
        // Bare `pnc` prints the overview, as a mistake.
        root.SetAction(r => { help.Invoke(r); return CommandLineUsage.MistakeExitCode; });
        root.Subcommands.Add(ServeCommands.Up(common));
        root.Subcommands.Add(ServeCommands.Serve(common));
        root.Subcommands.Add(PkiCommands.Create(common));
        root.Subcommands.Add(CertCommands.Create(common));
        root.Subcommands.Add(CrlCommands.Create(common));
        root.Subcommands.Add(AuditCommands.Create(common));
        root.Subcommands.Add(OcpiCommands.Create(common));
        root.Subcommands.Add(ExiCommands.Create());
        return root;
    }

    /// <summary>Where a verb's action writes: the output and error writers the invocation was given.</summary>
    internal static TextWriter Out(this ParseResult result) => result.InvocationConfiguration.Output;
    internal static TextWriter Error(this ParseResult result) => result.InvocationConfiguration.Error;
}

/// <summary>
/// --db, --home and --public-url, taken by every verb that opens the database; each falls back to its environment
/// variable (PNC_DATABASE, PNC_HOME, PNC_PUBLIC_URL) after parsing, so help never prints a configured secret.
/// </summary>
internal sealed class CommonOptions
{
    public Option<string> Database { get; } = new("--db")
    {
        HelpName = "CONNSTRING",
        Description = "PostgreSQL connection string (default: PNC_DATABASE; without one, a managed local PostgreSQL under the home folder).",
    };

    public Option<string> Home { get; } = new("--home")
    {
        HelpName = "DIR",
        Description = "Folder for keys, secrets and the managed database (default: PNC_HOME, else ./.pnc).",
    };

    public Option<string> PublicUrl { get; } = new("--public-url")
    {
        HelpName = "URL",
        Description = "Base of the OCSP, CRL and CA certificate URLs written into certificates (default: PNC_PUBLIC_URL, else http://localhost:5080).",
    };

    public T AddTo<T>(T command) where T : Command
    {
        command.Options.Add(Database);
        command.Options.Add(Home);
        command.Options.Add(PublicUrl);
        return command;
    }

    /// <param name="defaultPublicUrl">The public URL when neither the option nor PNC_PUBLIC_URL gives one.</param>
    public PncSettings Read(ParseResult result, string defaultPublicUrl = PncSettings.DefaultPublicUrl) => PncSettings.Resolve(
        result.GetValue(Home), result.GetValue(Database), result.GetValue(PublicUrl), defaultPublicUrl);
}
