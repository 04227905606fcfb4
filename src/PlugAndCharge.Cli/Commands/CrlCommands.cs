using System.CommandLine;
using System.Security.Cryptography;

namespace PlugAndCharge.Cli.Commands;

internal static class CrlCommands
{
    public static Command Create(CommonOptions common) => CommandLineUsage.Group("crl", "Certificate revocation lists.", Generate(common));

    private static Command Generate(CommonOptions common)
    {
        var ca = new Option<string>("--ca") { Required = true, HelpName = "CA", Description = "The CA whose CRL to sign." };
        var outFile = new Option<string>("--out") { HelpName = "FILE", Description = "Write the CRL as DER to FILE instead of printing PEM." };
        var command = common.AddTo(new Command("generate", "Signs a new CRL for a CA (next CRL number) and prints it as PEM, or writes DER with --out.") { ca, outFile });
        command.SetAction(async (r, ct) =>
        {
            var caId = r.GetValue(ca)!;
            var file = r.GetValue(outFile);
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var crl = await env.Ca.Crls.GenerateAsync(caId, Program.Actor, ct);
            if (file != null) await File.WriteAllBytesAsync(file, crl.Der, ct);
            else r.Out().Write(PemEncoding.WriteString("X509 CRL", crl.Der) + "\n");
            r.Error().WriteLine($"CRL #{crl.Number} of {caId}, next update {crl.NextUpdate:O}.");
            return 0;
        });
        return command;
    }
}

internal static class AuditCommands
{
    public static Command Create(CommonOptions common) => CommandLineUsage.Group("audit", "The audit log.", Verify(common));

    private static Command Verify(CommonOptions common)
    {
        var command = common.AddTo(new Command("verify", "Walks the audit log and checks its hash chain; exit 0 when intact, 1 with the first broken entry."));
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var result = await Pki.Audit.AuditChain.VerifyAsync(env.Ca.Audit.ReadAllAsync(ct), ct);
            r.Out().WriteLine(result.Detail);
            return result.Intact ? 0 : 1;
        });
        return command;
    }
}
