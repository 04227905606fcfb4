using System.CommandLine;
using PlugAndCharge.Cli;
using PlugAndCharge.Pki;

return await PlugAndCharge.Cli.Program.RunAsync(args, Console.Out, Console.Error);

namespace PlugAndCharge.Cli
{
    public static partial class Program
    {
        public static string Actor => "cli:" + Environment.UserName;

        public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e)
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, ev) => { ev.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (systemd, docker stop, kill) stops the service as cleanly as Ctrl-C does.
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
            try
            {
                var root = PncCommandLine.Create();
                // Our own Ctrl-C/SIGTERM handling (above): `pnc up` may take longer than System.CommandLine's 2 s to stop
                // the service and its database. Exceptions reach the handlers below, which print one line, never a trace.
                var invocation = new InvocationConfiguration { Output = o, Error = e, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
                // `pnc help [VERB]` is `pnc [VERB] --help`.
                if (args is ["help", ..]) args = [.. args[1..], "--help"];
                var parsed = root.Parse(args, CommandLineUsage.Parser);
                // `pnc exi` has always prefixed its messages with its name (its codec errors too); the other verbs with pnc.
                if (CommandLineUsage.ReportErrors(parsed, args is ["exi", ..] ? "pnc exi" : "pnc", e)) return CommandLineUsage.MistakeExitCode;
                return await parsed.InvokeAsync(invocation, cts.Token);
            }
            catch (UsageException ex) { e.WriteLine("pnc: " + ex.Message); return CommandLineUsage.MistakeExitCode; }
            catch (PkiException ex) { e.WriteLine($"pnc: {ex.Error}: {ex.Message}"); return 1; }
            catch (InvalidOperationException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            catch (Npgsql.NpgsqlException ex) { e.WriteLine("pnc: database error: " + ex.Message); return 1; }
            catch (IOException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            catch (UnauthorizedAccessException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            finally { Console.CancelKeyPress -= onCancel; }
        }
    }
}
