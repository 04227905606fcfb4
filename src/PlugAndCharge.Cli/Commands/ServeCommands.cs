using PlugAndCharge.Server;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Cli.Commands;

internal static class ServeCommands
{
    public const string Help = """
        pnc serve [--urls URL] [--https-urls URL] [--db CONNSTRING]
            Runs the service on the configured database: public HTTP (OCSP, CRLs, CA certificates, health; default
            http://127.0.0.1:5080) and HTTPS for participants with mutual TLS or bearer tokens (default
            https://127.0.0.1:5443). TLS certificate from PNC_TLS_CERT/PNC_TLS_KEY, else issued by the participant CA;
            token key from PNC_TOKEN_KEY, else a file in PNC_HOME.
        pnc up [--urls URL] [--https-urls URL]
            For a newcomer: starts the managed PostgreSQL, applies migrations, creates the development PKI, issues and
            verifies a sample contract certificate, creates an admin participant with a client certificate, then
            serves until Ctrl-C.
        """;

    public static async Task<int> ServeAsync(string[] args, TextWriter o, TextWriter e, bool demo, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string>());
        var urls = cl.Get("urls") ?? "http://127.0.0.1:5080";
        var httpsUrls = cl.Get("https-urls") ?? "https://127.0.0.1:5443";
        if (cl.Get("public-url") == null && Environment.GetEnvironmentVariable("PNC_PUBLIC_URL") == null)
            Environment.SetEnvironmentVariable("PNC_PUBLIC_URL", urls.Split(';')[0].Replace("127.0.0.1", "localhost"));
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        cl.RejectUnknown();
        if (demo) await DemoScenario.RunAsync(env, o, ct);

        var directory = new ParticipantDirectory(new PostgresParticipantStore(env.Db), env.Ca, TimeProvider.System);
        var serverCertificate = await ServiceBootstrap.ServerCertificateAsync(env, directory, ct);
        var admin = demo ? await ServiceBootstrap.AdminCredentialAsync(env, directory, ct) : default;
        var options = new ServiceHostOptions
        {
            HttpUrls = urls.Split(';'), HttpsUrls = httpsUrls.Split(';'), ServerCertificate = serverCertificate,
            TokenSigningKey = ServiceBootstrap.TokenSigningKey(env),
            ContractKeyEncryptionKey = ServiceBootstrap.ContractKeyEncryptionKey(env),
            CpsSigners = await ServiceBootstrap.CpsSignersAsync(env, ct),
        };
        await using var app = ServiceHost.Build(options, env.Ca, env.Db);
        await app.StartAsync(ct);
        var u = options.HttpUrls[0];
        var s = options.HttpsUrls[0];
        o.WriteLine();
        o.WriteLine("PlugAndCharge is running:");
        o.WriteLine($"  public HTTP    {u}   (health: {u}/health/ready, OCSP: {u}/ocsp/CA, CRL: {u}/crl/CA.crl, CA: {u}/ca/CA.der)");
        o.WriteLine($"  participants   {s}   (mutual TLS or OAuth2 bearer; API description: {s}/openapi/v1.json)");
        if (admin != default)
        {
            o.WriteLine($"  admin login    client certificate {admin.CertFile}, key {admin.KeyFile}");
            o.WriteLine($"                 try: curl --cacert {admin.CaFile} --cert {admin.CertFile} --key {admin.KeyFile} {s}/v1/participants");
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
