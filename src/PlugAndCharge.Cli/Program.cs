using PlugAndCharge.Cli;
using PlugAndCharge.Cli.Commands;
using PlugAndCharge.Pki;

return await PlugAndCharge.Cli.Program.RunAsync(args, Console.Out, Console.Error);

namespace PlugAndCharge.Cli
{
    public static partial class Program
    {
        public static string Actor => "cli:" + Environment.UserName;

        private const string Usage = """
            pnc: the PlugAndCharge certificate and contract service.

            Usage: pnc COMMAND [options]    (pnc COMMAND --help for details)

              up          set everything up for a newcomer and run the service
              serve       run the service on the configured database
              pki         init | list | csr | subca: the CA hierarchy
              cert        issue | revoke | lint | verify
              crl         generate
              audit       verify
              exi         decode | encode: ISO 15118 EXI messages (pnc exi --help)

            Common options: --db CONNSTRING (or PNC_DATABASE; without one, a managed local PostgreSQL under
            --home / PNC_HOME, default ./.pnc), --public-url URL (base of OCSP/CRL/CA URLs in certificates).
            """;

        public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e)
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, ev) => { ev.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (systemd, docker stop, kill) stops the service as cleanly as Ctrl-C does.
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
            try
            {
                if (args.Length == 0 || args[0] is "--help" or "-h" or "help") { o.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
                var rest = args[1..];
                if (rest.Contains("--help") || rest.Contains("-h"))
                {
                    o.WriteLine(args[0] switch
                    {
                        "pki" => PkiCommands.Help, "cert" => CertCommands.Help, "crl" => CrlCommands.Help, "audit" => AuditCommands.Help,
                        "serve" or "up" => ServeCommands.Help, "exi" => "", _ => Usage,
                    });
                    if (args[0] != "exi") return 0;
                }
                return args[0] switch
                {
                    "pki" => await PkiCommands.RunAsync(rest, o, e, cts.Token),
                    "cert" => await CertCommands.RunAsync(rest, o, e, cts.Token),
                    "crl" => await CrlCommands.RunAsync(rest, o, e, cts.Token),
                    "audit" => await AuditCommands.RunAsync(rest, o, e, cts.Token),
                    "exi" => PlugAndCharge.Cli.Exi.ExiCommands.Run(rest, o, e),
                    "serve" => await ServeCommands.ServeAsync(rest, o, e, demo: false, cts.Token),
                    "up" => await ServeCommands.ServeAsync(rest, o, e, demo: true, cts.Token),
                    _ => throw new UsageException($"Unknown command '{args[0]}'. Run pnc --help."),
                };
            }
            catch (UsageException ex) { e.WriteLine("pnc: " + ex.Message); return 2; }
            catch (PkiException ex) { e.WriteLine($"pnc: {ex.Error}: {ex.Message}"); return 1; }
            catch (InvalidOperationException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            catch (Npgsql.NpgsqlException ex) { e.WriteLine("pnc: database error: " + ex.Message); return 1; }
            catch (IOException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            catch (UnauthorizedAccessException ex) { e.WriteLine("pnc: " + ex.Message); return 1; }
            finally { Console.CancelKeyPress -= onCancel; }
        }
    }
}
