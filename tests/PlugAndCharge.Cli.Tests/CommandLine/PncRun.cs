namespace PlugAndCharge.Cli.Tests.CommandLine;

/// <summary>Runs <c>pnc</c> in-process with captured output, for tests that need no database.</summary>
internal static class PncRun
{
    public static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var exit = await Program.RunAsync(args, o, e);
        return (exit, o.ToString(), e.ToString());
    }
}
