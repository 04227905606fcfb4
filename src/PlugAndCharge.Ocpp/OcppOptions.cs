using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Ocpp;

/// <summary>Settings of the OCPP certificate service (section "Ocpp" of the configuration).</summary>
public sealed class OcppOptions
{
    /// <summary>Largest inbound message; a 2.1 Get15118EVCertificateRequest carries up to 11000 characters of EXI.</summary>
    public int MaxMessageBytes { get; set; } = 256 * 1024;

    /// <summary>How long we wait for a station's CALLRESULT.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Our WebSocket ping interval; zero (the default) sends none. Pings cost each idle connection a timer and a TLS
    /// round trip: at one a minute they were most of the CPU of 5,000 idle stations (docs/performance.md). Stations ping
    /// themselves and heartbeat; dead ones are found by <see cref="StationSilenceLimit"/>. Set it when something between
    /// the stations and the service drops connections idle for less than the stations' own ping interval.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// With <see cref="KeepAliveInterval"/> set: how long a station may take to answer our ping (RFC 6455 §5.5.2: the
    /// Pong is mandatory) before its connection is dropped.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A station that sent nothing for this long is taken for gone and its connection closed (Transport/SilentStationSweeper);
    /// by default twice the heartbeat interval plus a minute.
    /// </summary>
    public TimeSpan StationSilenceLimit
    {
        get => _silenceLimit ?? TimeSpan.FromSeconds(2 * HeartbeatIntervalSeconds + 60);
        set => _silenceLimit = value;
    }
    private TimeSpan? _silenceLimit;

    /// <summary>The heartbeat interval an Accepted BootNotification hands out (OCPP 2.0.1 B01.FR.04, 1.6 §4.2), in seconds.</summary>
    public int HeartbeatIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// Boots recorded at once per instance; one more is answered Pending (OCPP 2.0.1 B02) instead of waiting for the
    /// database, so the calls of accepted stations keep their connections to it (Handlers/BootAdmission).
    /// </summary>
    public int MaxBootsInFlight { get; set; } = 32;

    /// <summary>Boots admitted per second per instance (a token bucket with a second's worth of burst); past it Pending.</summary>
    public int BootsPerSecond { get; set; } = 1000;

    /// <summary>
    /// The retry interval of a Pending answer lies between these: at least BootRetryMin (plus up to as much again at
    /// random), then the first second that still has room, so the fleet spreads itself out; BootRetryMax at most.
    /// </summary>
    public TimeSpan BootRetryMin { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan BootRetryMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Budget for answering Get15118EVCertificate: the EV waits 5 s in total, the station 4.5 s (docs/domain.md §6), so we
    /// answer Failed ourselves before the station gives up.
    /// </summary>
    public TimeSpan EvCertificateTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>CertificateSigned delivery after an accepted SignCertificate: attempts and the pause between them.</summary>
    public int CertificateSignedAttempts { get; set; } = 5;
    public TimeSpan CertificateSignedRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>How long one CertificateSigned attempt waits for the station's answer.</summary>
    public TimeSpan CertificateSignedTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// OCSP responders a station-supplied responderURL may point to (exact URL or a prefix ending in '/'), compared
    /// case-insensitively. Anything else is never fetched (SSRF, docs/domain.md §6).
    /// </summary>
    public IList<string> AllowedOcspResponders { get; } = [];

    /// <summary>
    /// Which addresses a foreign responder's URL may lead to (internal ones only when allow-listed here, in addition to
    /// the URL being on <see cref="AllowedOcspResponders"/>).
    /// </summary>
    public PlugAndCharge.Core.Outbound.OutboundNetworkPolicy Outbound { get; set; } = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Default;

    /// <summary>Where our own CAs' OCSP responder answers; null uses the Pki's published URL (PkiOptions.OcspUrl).</summary>
    public Func<string, string>? OwnOcspResponderUrl { get; set; }

    /// <summary>How long an OCSP fetch may take before the answer is Failed.</summary>
    public TimeSpan OcspFetchTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Most OCSP responses kept in the cache (by CertID, until nextUpdate).</summary>
    public int OcspCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// Longest time an OCSP answer is reused, whatever its nextUpdate says: a responder that promises a week cannot keep
    /// a revocation from us for a week (the answer is cached until min(nextUpdate, this)).
    /// </summary>
    public TimeSpan OcspCacheMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Certificates (PEM) of foreign CAs whose allow-listed responders answer for them: the key that must sign, or
    /// certify the delegate that signs, their OCSP answers when a response does not carry the CA's certificate itself.
    /// </summary>
    public IList<string> ForeignIssuersPem { get; } = [];

    /// <summary>Extra trust anchors (PEM) for contract chains beyond our own MO and V2G roots, e.g. other PKIs' roots.</summary>
    public IList<string> ExtraContractRootsPem { get; } = [];

    /// <summary>Extra trust anchors (PEM) for station client certificates (security profile 3) beyond our V2G roots.</summary>
    public IList<string> ExtraStationRootsPem { get; } = [];

    /// <summary>How long the list of our CAs (roots, issuer hashes) is reused before it is read again.</summary>
    public TimeSpan CaListRefresh { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Failed HTTP Basic logins (security profile 2) allowed per station and per source address, per instance; past
    /// either the upgrade is answered 429 before the password is hashed. A source's budget is the smaller, so one
    /// guessing address does not lock the station out for its own address.
    /// </summary>
    public RateBudget FailedLoginsPerStation { get; set; } = new(20, TimeSpan.FromMinutes(1));
    public RateBudget FailedLoginsPerSource { get; set; } = new(10, TimeSpan.FromMinutes(1));

    /// <summary>
    /// The dedicated secret (at least 32 bytes, shared by every instance) the keyed records of service-generated
    /// station passwords are made under (<see cref="Stations.StationPasswordKey"/>). Required: a host that gives none
    /// fails when the first station logs in or is registered.
    /// </summary>
    public byte[]? StationPasswordKey { get; set; }

    /// <summary>
    /// How long the password a rotation replaced still logs the station in, unless it logs in with the new one first
    /// (OCPP 2.0.1 A01: the station applies the new password when it reconnects).
    /// </summary>
    public TimeSpan PreviousPasswordWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>SignCertificate requests per station, per instance; past it Rejected (RateLimitExceeded) without reading the CSR.</summary>
    public RateBudget SignCertificatesPerStation { get; set; } = new(10, TimeSpan.FromHours(1));

    /// <summary>Get15118EVCertificate Update requests per station, per instance; past it Failed (RateLimitExceeded) without asking contract provisioning.</summary>
    public RateBudget EvCertificateUpdatesPerStation { get; set; } = new(30, TimeSpan.FromHours(1));

    /// <summary>Validate our own CALLRESULT payloads against the schemas too (tests; costs a little per message).</summary>
    public bool ValidateOwnResponses { get; set; }
}
