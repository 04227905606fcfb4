using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Server;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Cli.Commands;

internal static class ServeCommands
{
    public const string Help = """
        pnc serve [--urls URL] [--https-urls URL] [--db CONNSTRING] [--ocpi-base-url URL] [--admin-credential]
            Runs the service on the configured database: public HTTP (OCSP, CRLs, CA certificates, health; default
            http://127.0.0.1:5080) and HTTPS for participants with mutual TLS or bearer tokens (default
            https://127.0.0.1:5443). TLS certificate from PNC_TLS_CERT/PNC_TLS_KEY, else issued by the participant CA;
            token key from PNC_TOKEN_KEY, else a file in PNC_HOME. The OCPI hub's public https URL (--ocpi-base-url or
            PNC_OCPI_BASE_URL, e.g. https://hub.example.com/ocpi) is required with a configured database; with the
            managed development database it defaults to the first HTTPS listener's URL + /ocpi. PNC_OUTBOUND_ALLOW:
            internal networks (CIDRs) or host names that participant-supplied URLs (OCPI, webhooks, foreign OCSP) may
            reach; none by default. --admin-credential: register the hub operator's admin participant if missing and
            write its client certificate and key to PNC_HOME/participants (0600), as pnc up does (scripts/cluster.sh).
        pnc up [--urls URL] [--https-urls URL]
            For a newcomer: starts the managed PostgreSQL, applies migrations, creates the development PKI and an admin
            participant with a client certificate (PNC_HOME/participants), starts the service and serves until Ctrl-C,
            then stops the PostgreSQL it started. ./run.sh then plays the roaming sample (samples/roaming) against it.
        """;

    /// <summary>A listen address as a client reaches it: wildcards become the loopback address.</summary>
    private static string Loopback(string url) => url.Replace("://0.0.0.0", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1").TrimEnd('/');

    /// <summary>
    /// The OCPI hub's public https base URL: the configured one, or in development (the managed local database) the
    /// first HTTPS listener's. A deployment must name it: the hub never takes its own URL from a request's Host header.
    /// </summary>
    private static string OcpiBaseUrl(string? configured, string httpsUrls, bool development)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            if (!development)
                throw new UsageException("Set PNC_OCPI_BASE_URL (or --ocpi-base-url) to the OCPI hub's public https URL, e.g. https://hub.example.com/ocpi: " +
                    "the hub builds the URLs it hands to OCPI parties from it and serves no other host.");
            return Loopback(httpsUrls.Split(';')[0]) + "/ocpi";
        }
        if (!Uri.TryCreate(configured, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            throw new UsageException($"PNC_OCPI_BASE_URL must be an absolute https URL (OCPI is served over HTTPS only); it is '{configured}'.");
        return configured.TrimEnd('/');
    }

    public static async Task<int> ServeAsync(string[] args, TextWriter o, TextWriter e, bool demo, CancellationToken ct)
    {
        var cl = new CommandLine(args, new HashSet<string> { "admin-credential" });
        var urls = cl.Get("urls") ?? "http://127.0.0.1:5080";
        var httpsUrls = cl.Get("https-urls") ?? "https://127.0.0.1:5443";
        if (cl.Get("public-url") == null && Environment.GetEnvironmentVariable("PNC_PUBLIC_URL") == null)
            Environment.SetEnvironmentVariable("PNC_PUBLIC_URL", urls.Split(';')[0].Replace("127.0.0.1", "localhost"));
        // Checked before anything starts: without a configured database (PncEnvironment then manages its own) this is development.
        var development = string.IsNullOrEmpty(cl.Get("db") ?? Environment.GetEnvironmentVariable("PNC_DATABASE"));
        var ocpiBaseUrl = OcpiBaseUrl(cl.Get("ocpi-base-url") ?? Environment.GetEnvironmentVariable("PNC_OCPI_BASE_URL"), httpsUrls, development);
        var adminCredential = demo || cl.Has("admin-credential");
        await using var env = await PncEnvironment.OpenAsync(cl, e, ct);
        env.StopManagedDatabaseOnDispose = demo;
        cl.RejectUnknown();
        if (demo)
        {
            var created = await DevelopmentHierarchy.CreateAsync(env.Ca.Hierarchy, env.Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, Program.Actor, ct);
            o.WriteLine(created.Count > 0 ? $"Created the development PKI: {string.Join(", ", created)}" : "Development PKI present (V2G, CPO, CPS, MO and OEM roots and sub-CAs).");
        }

        var directory = new ParticipantDirectory(new PostgresParticipantStore(env.Db), env.Ca, TimeProvider.System);
        var serverCertificate = await ServiceBootstrap.ServerCertificateAsync(env, directory, ct);
        var admin = adminCredential ? await ServiceBootstrap.AdminCredentialAsync(env, directory, ct) : default;
        var options = new ServiceHostOptions
        {
            HttpUrls = urls.Split(';'), HttpsUrls = httpsUrls.Split(';'), ServerCertificate = serverCertificate,
            TokenSigningKey = ServiceBootstrap.TokenSigningKey(env),
            ContractKeyEncryptionKey = ServiceBootstrap.ContractKeyEncryptionKey(env),
            CpsSigners = await ServiceBootstrap.CpsSignersAsync(env, ct),
            OcpiPublicBaseUrl = ocpiBaseUrl,
            SupersededContractCertificateGrace = Environment.GetEnvironmentVariable("PNC_CONTRACT_UPDATE_GRACE") is { Length: > 0 } grace
                ? TimeSpan.TryParse(grace, System.Globalization.CultureInfo.InvariantCulture, out var g) && g >= TimeSpan.Zero ? g
                    : throw new UsageException($"PNC_CONTRACT_UPDATE_GRACE '{grace}' is not a duration such as 14.00:00:00 (days.hours:minutes:seconds).")
                : null,
            // Participant-supplied URLs reach no internal address unless allow-listed; ./run.sh runs the sample eMSP's
            // OCPI platform on loopback beside `pnc up`, so it allows loopback when the operator configured nothing.
            Outbound = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Parse(Environment.GetEnvironmentVariable("PNC_OUTBOUND_ALLOW") ?? (demo ? "127.0.0.0/8,::1" : null)),
        };
        await using var app = ServiceHost.Build(options, env.Ca, env.Db);
        await app.StartAsync(ct);
        var u = Loopback(options.HttpUrls[0]);
        var s = Loopback(options.HttpsUrls[0]);
        o.WriteLine();
        o.WriteLine("PlugAndCharge is running:");
        o.WriteLine($"  public HTTP    {u}   (health: {u}/health/ready, OCSP: {u}/ocsp/CA, CRL: {u}/crl/CA.crl, CA: {u}/ca/CA.der)");
        o.WriteLine($"  participants   {s}   (mutual TLS or OAuth2 bearer; API description: {s}/openapi/v1.json)");
        o.WriteLine($"  OCPP           {"wss" + s[5..]}/ocpp/{{stationId}}   OCPI hub: {ocpiBaseUrl}/versions");
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
