using PlugAndCharge.Server;

namespace PlugAndCharge.Cli.Commands;

internal static class ServeCommands
{
    public const string Help = """
        pnc serve [--urls URL] [--db CONNSTRING]
            Runs the service on the configured database (default http://127.0.0.1:5080).
        pnc up [--urls URL]
            For a newcomer: starts the managed PostgreSQL, applies migrations, creates the development PKI, issues and
            verifies a sample contract certificate, then serves until Ctrl-C.
        """;

    public static async Task<int> ServeAsync(string[] args, TextWriter o, TextWriter e, bool demo, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string>());
        var urls = cl.Get("urls") ?? "http://127.0.0.1:5080";
        if (cl.Get("public-url") == null && Environment.GetEnvironmentVariable("PNC_PUBLIC_URL") == null)
            Environment.SetEnvironmentVariable("PNC_PUBLIC_URL", urls.Split(';')[0].Replace("127.0.0.1", "localhost"));
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        cl.RejectUnknown();
        if (demo) await DemoScenario.RunAsync(env, o, ct);
        await using var app = ServiceHost.Build(urls.Split(';'), env.Ca, env.Db);
        await app.StartAsync(ct);
        o.WriteLine();
        o.WriteLine("PlugAndCharge is running:");
        foreach (var u in urls.Split(';'))
        {
            o.WriteLine($"  service        {u}   (health: {u}/health/ready)");
            o.WriteLine($"  CA certificate {u}/ca/iso2-v2g-root.der");
            o.WriteLine($"  CRL            {u}/crl/iso2-mo-subca2.crl");
        }
        o.WriteLine($"  database       {(env.ManagedDatabase ? "managed local PostgreSQL in " + Path.Combine(env.Home, "postgres") : "configured database")}");
        o.WriteLine($"  keys           {env.KeyDirectory} (encrypted PKCS#8)");
        o.WriteLine("Press Ctrl-C to stop.");
        try { await Task.Delay(Timeout.Infinite, ct); }
        catch (OperationCanceledException) { }
        o.WriteLine("Stopping.");
        await app.StopAsync(CancellationToken.None);
        return 0;
    }
}
