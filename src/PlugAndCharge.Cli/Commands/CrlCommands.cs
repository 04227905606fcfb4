using System.Security.Cryptography;

namespace PlugAndCharge.Cli.Commands;

internal static class CrlCommands
{
    public const string Help = """
        pnc crl generate --ca CA [--out FILE]
            Signs a new CRL for CA (next CRL number) and prints it as PEM (or writes DER to FILE).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string>());
        var verb = cl.Positional(0, "crl subcommand (generate)");
        if (verb != "generate") throw new UsageException($"Unknown crl subcommand '{verb}'.");
        var caId = cl.Require("ca");
        var outFile = cl.Get("out");
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        cl.RejectUnknown();
        var crl = await env.Ca.Crls.GenerateAsync(caId, Program.Actor, ct);
        if (outFile != null) await File.WriteAllBytesAsync(outFile, crl.Der, ct);
        else o.Write(PemEncoding.WriteString("X509 CRL", crl.Der) + "\n");
        e.WriteLine($"CRL #{crl.Number} of {caId}, next update {crl.NextUpdate:O}.");
        return 0;
    }
}

internal static class AuditCommands
{
    public const string Help = """
        pnc audit verify
            Walks the audit log and checks its hash chain; exit 0 when intact, 1 with the first broken entry.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter o, TextWriter e, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string>());
        var verb = cl.Positional(0, "audit subcommand (verify)");
        if (verb != "verify") throw new UsageException($"Unknown audit subcommand '{verb}'.");
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        cl.RejectUnknown();
        var result = await Pki.Audit.AuditChain.VerifyAsync(env.Ca.Audit.ReadAllAsync(ct), ct);
        o.WriteLine(result.Detail);
        return result.Intact ? 0 : 1;
    }
}
