using System.CommandLine;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Server;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Cli.Commands;

internal static class ServeCommands
{
    private const string DefaultHttpUrls = "http://127.0.0.1:5080", DefaultHttpsUrls = "https://127.0.0.1:5443";

    /// <summary>The listeners and OCPI URL both verbs take.</summary>
    private sealed class ListenOptions
    {
        public Option<string> Urls { get; } = new("--urls")
        {
            HelpName = "URL", DefaultValueFactory = _ => DefaultHttpUrls,
            Description = "Public HTTP listeners (OCSP, CRLs, CA certificates, health), ';'-separated; the first is the default --public-url.",
        };

        public Option<string> HttpsUrls { get; } = new("--https-urls")
        {
            HelpName = "URL", DefaultValueFactory = _ => DefaultHttpsUrls,
            Description = "HTTPS listeners for participants (mutual TLS or bearer tokens, OCPP, OCPI), ';'-separated.",
        };

        public Option<string> OcpiBaseUrl { get; } = new("--ocpi-base-url")
        {
            HelpName = "URL",
            Description = "The OCPI hub's public https URL, e.g. https://hub.example.com/ocpi (default: PNC_OCPI_BASE_URL; required with a " +
                "configured database, else the first HTTPS listener + /ocpi).",
        };

        public T AddTo<T>(T command) where T : Command
        {
            command.Options.Add(Urls);
            command.Options.Add(HttpsUrls);
            command.Options.Add(OcpiBaseUrl);
            return command;
        }
    }

    public static Command Serve(CommonOptions common)
    {
        var listen = new ListenOptions();
        var adminCredential = new Option<bool>("--admin-credential")
        {
            Description = "Register the hub operator's admin participant if missing and write its client certificate and key to " +
                "PNC_HOME/participants (0600), as pnc up does (scripts/cluster.sh).",
        };
        var command = common.AddTo(listen.AddTo(new Command("serve", "Runs the service on the configured database: public HTTP and HTTPS for participants. " +
            "TLS certificate from PNC_TLS_CERT/PNC_TLS_KEY, else issued by the participant CA; token key from PNC_TOKEN_KEY, station password key from PNC_STATION_KEY, each else a file in " +
            "PNC_HOME. PNC_OUTBOUND_ALLOW: internal networks (CIDRs) or host names that participant-supplied URLs (OCPI, webhooks, foreign " +
            "OCSP) may reach; none by default. PNC_OCPI_ROAMING_DEFAULT: open (default) or closed, whether OCPI CPO/eMSP pairs without a " +
            "roaming agreement roam.") { adminCredential }));
        command.SetAction((r, ct) => ServeAsync(r, common, listen, demo: false, r.GetValue(adminCredential), ct));
        return command;
    }

    public static Command Up(CommonOptions common)
    {
        var listen = new ListenOptions();
        var command = common.AddTo(listen.AddTo(new Command("up", "For a newcomer: starts the managed PostgreSQL, applies migrations, creates " +
            "the development PKI and an admin participant with a client certificate (PNC_HOME/participants), starts the service and serves " +
            "until Ctrl-C, then stops the PostgreSQL it started. ./run.sh then plays the roaming sample (samples/roaming) against it.")));
        command.SetAction((r, ct) => ServeAsync(r, common, listen, demo: true, adminCredential: true, ct));
        return command;
    }

    /// <summary>A listen address as a client reaches it: wildcards become the loopback address.</summary>
    /// <summary>PNC_OCPI_ROAMING_DEFAULT: open (default) or closed, for CPO/eMSP pairs without a roaming agreement.</summary>
    private static PlugAndCharge.Ocpi.Agreements.RoamingDefault RoamingDefault(string? configured) => configured?.Trim().ToLowerInvariant() switch
    {
        null or "" or "open" => PlugAndCharge.Ocpi.Agreements.RoamingDefault.Open,
        "closed" => PlugAndCharge.Ocpi.Agreements.RoamingDefault.Closed,
        _ => throw new UsageException($"PNC_OCPI_ROAMING_DEFAULT must be open or closed (for CPO/eMSP pairs without a roaming agreement); it is '{configured}'."),
    };

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

    /// <summary>The OCPP knobs of docs/operator-guide.md §6, each a whole number from its environment variable; unset keeps the default.</summary>
    private static Action<PlugAndCharge.Ocpp.OcppOptions> OcppSettings()
    {
        var heartbeat = Positive("PNC_OCPP_HEARTBEAT_INTERVAL");
        var inFlight = Positive("PNC_OCPP_BOOTS_IN_FLIGHT");
        var perSecond = Positive("PNC_OCPP_BOOTS_PER_SECOND");
        var retryMin = Positive("PNC_OCPP_BOOT_RETRY_MIN");
        var retryMax = Positive("PNC_OCPP_BOOT_RETRY_MAX");
        var ping = Positive("PNC_OCPP_PING_INTERVAL");
        if ((retryMin ?? 5) > (retryMax ?? 300))
            throw new UsageException("PNC_OCPP_BOOT_RETRY_MIN must not exceed PNC_OCPP_BOOT_RETRY_MAX.");
        return o =>
        {
            if (heartbeat is { } h) o.HeartbeatIntervalSeconds = h;
            if (inFlight is { } f) o.MaxBootsInFlight = f;
            if (perSecond is { } p) o.BootsPerSecond = p;
            if (retryMin is { } min) o.BootRetryMin = TimeSpan.FromSeconds(min);
            if (retryMax is { } max) o.BootRetryMax = TimeSpan.FromSeconds(max);
            if (ping is { } k) o.KeepAliveInterval = TimeSpan.FromSeconds(k);
        };

    }

    private static int? Positive(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
        ? int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new UsageException($"{name} '{text}' is not a positive whole number.")
        : null;

    private static async Task<int> ServeAsync(ParseResult r, CommonOptions common, ListenOptions listen, bool demo, bool adminCredential, CancellationToken ct)
    {
        var (o, e) = (r.Out(), r.Error());
        var urls = r.GetValue(listen.Urls)!;
        var httpsUrls = r.GetValue(listen.HttpsUrls)!;
        // Certificates name the first public listener unless --public-url or PNC_PUBLIC_URL say otherwise.
        var settings = common.Read(r, defaultPublicUrl: urls.Split(';')[0].Replace("127.0.0.1", "localhost"));
        // Checked before anything starts: without a configured database (PncEnvironment then manages its own) this is development.
        var ocpiBaseUrl = OcpiBaseUrl(r.GetValue(listen.OcpiBaseUrl) ?? Environment.GetEnvironmentVariable("PNC_OCPI_BASE_URL"), httpsUrls, settings.ManagedDatabase);
        var ocppSettings = OcppSettings();
        // Where a restart's time goes before the instance accepts stations again (docs/performance.md, "Fleet scale").
        var startup = System.Diagnostics.Stopwatch.StartNew();
        var phases = new List<string>();
        void Phase(string name) { phases.Add($"{name} {startup.ElapsedMilliseconds} ms"); }
        await using var env = await PncEnvironment.OpenAsync(settings, e, ct);
        env.StopManagedDatabaseOnDispose = demo;
        if (demo)
        {
            var created = await DevelopmentHierarchy.CreateAsync(env.Ca.Hierarchy, env.Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, Program.Actor, ct);
            o.WriteLine(created.Count > 0 ? $"Created the development PKI: {string.Join(", ", created)}" : "Development PKI present (V2G, CPO, CPS, MO and OEM roots and sub-CAs).");
        }

        Phase("database and migrations");
        var directory = ParticipantDirectory.Over(new PostgresParticipantStore(env.Db), env.Ca, TimeProvider.System);
        // The CPS signers' keys and the participant credentials are independent: load them side by side.
        var cpsSigners = ServiceBootstrap.CpsSignersAsync(env, ct);
        var serverCertificate = await ServiceBootstrap.ServerCertificateAsync(env, directory, ct);
        var admin = adminCredential ? await ServiceBootstrap.AdminCredentialAsync(env, directory, ct) : default;
        Phase("TLS certificate and admin credential");
        var options = new ServiceHostOptions
        {
            HttpUrls = urls.Split(';'), HttpsUrls = httpsUrls.Split(';'), ServerCertificate = serverCertificate,
            TokenSigningKey = ServiceBootstrap.TokenSigningKey(env),
            ContractKeyEncryptionKey = ServiceBootstrap.ContractKeyEncryptionKey(env),
            StationPasswordKey = ServiceBootstrap.StationPasswordKey(env),
            CpsSigners = await cpsSigners,
            OcpiPublicBaseUrl = ocpiBaseUrl,
            OcpiRoamingDefault = RoamingDefault(Environment.GetEnvironmentVariable("PNC_OCPI_ROAMING_DEFAULT")),
            SupersededContractCertificateGrace = Environment.GetEnvironmentVariable("PNC_CONTRACT_UPDATE_GRACE") is { Length: > 0 } grace
                ? TimeSpan.TryParse(grace, System.Globalization.CultureInfo.InvariantCulture, out var g) && g >= TimeSpan.Zero ? g
                    : throw new UsageException($"PNC_CONTRACT_UPDATE_GRACE '{grace}' is not a duration such as 14.00:00:00 (days.hours:minutes:seconds).")
                : null,
            // Participant-supplied URLs reach no internal address unless allow-listed; ./run.sh runs the sample eMSP's
            // OCPI platform on loopback beside `pnc up`, so it allows loopback when the operator configured nothing.
            Outbound = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Parse(Environment.GetEnvironmentVariable("PNC_OUTBOUND_ALLOW") ?? (demo ? "127.0.0.0/8,::1" : null)),
            ConfigureOcpp = ocppSettings,
            KestrelHeartbeatInterval = Positive("PNC_KESTREL_HEARTBEAT_INTERVAL") is { } kestrel ? TimeSpan.FromSeconds(kestrel) : ServiceHostOptions.DefaultKestrelHeartbeatInterval,
        };
        Phase("keys");
        await using var app = ServiceHost.Build(options, env.Ca, env.Db);
        Phase("host built");
        await app.StartAsync(ct);
        Phase("listening");
        e.WriteLine($"startup: {string.Join(", ", phases)}");
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
