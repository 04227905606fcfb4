using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace PlugAndCharge.Cli;

/// <summary>A user mistake on the command line: printed as one line, exit code 2, never a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// What every verb of pnc shares in parsing: how mistakes are reported (one line each, exit code 2) and the parser's
/// settings. <c>pnc exi</c>'s tests compile this file with the exi command alone.
/// </summary>
public static class CommandLineUsage
{
    public const int MistakeExitCode = 2;

    /// <summary>
    /// No response files: an argument that starts with @ stays a value (a file name, a base64 string) and is never read
    /// as a file of further arguments.
    /// </summary>
    public static ParserConfiguration Parser { get; } = new() { ResponseFileTokenReplacer = null };

    /// <summary>
    /// The parse errors (unknown option or verb, missing required option or argument, unparsable value), one line each
    /// after <paramref name="prefix"/>; false when the command line parsed (or asked for help, which clears errors).
    /// </summary>
    public static bool ReportErrors(ParseResult result, string prefix, TextWriter error)
    {
        if (result.Errors.Count == 0 || result.Action is not ParseErrorAction) return false;
        foreach (var e in result.Errors)
            error.WriteLine($"{prefix}: {string.Join(' ', e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))}");
        return true;
    }

    /// <summary>A value an option's parser refuses: a parse error (exit 2) with this message, the verb never runs.</summary>
    public static T Refuse<T>(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default!;
    }

    /// <summary>A verb that only groups sub-verbs: run alone, it names them as a usage mistake.</summary>
    public static Command Group(string name, string description, params Command[] verbs)
    {
        var group = new Command(name, description);
        foreach (var verb in verbs) group.Subcommands.Add(verb);
        group.SetAction(int (_) => throw new UsageException($"Missing {name} subcommand ({string.Join(", ", verbs.Select(v => v.Name))})."));
        return group;
    }
}
