namespace PlugAndCharge.Ocpi;

/// <summary>The hub's own identity and its limits.</summary>
public sealed class OcpiHubOptions
{
    /// <summary>The hub's OCPI country code and party ID (the HUB role in 2.2.1, hub_party_id in 2.3.0).</summary>
    public string CountryCode { get; set; } = "DE";
    public string PartyId { get; set; } = "PNC";
    public string Name { get; set; } = "PlugAndCharge Hub";
    public string? Website { get; set; }

    /// <summary>
    /// The public URL of the OCPI root (e.g. https://hub.example.com/ocpi), required. Every URL the hub hands out
    /// (versions, endpoints, Link headers, the response_url of a forwarded command) is built from it, never from a
    /// request's Host header, and the hub serves only requests for its scheme, host and port: an https base URL means
    /// OCPI only over HTTPS.
    /// </summary>
    public string? PublicBaseUrl
    {
        get => _publicBaseUrl;
        set { _publicBaseUrl = value?.TrimEnd('/'); _publicBaseUri = null; }
    }

    private string? _publicBaseUrl;
    private Uri? _publicBaseUri;

    /// <summary><see cref="PublicBaseUrl"/> parsed; throws when it is missing or not an absolute http(s) URL.</summary>
    public Uri PublicBaseUri => _publicBaseUri ??=
        Uri.TryCreate(_publicBaseUrl, UriKind.Absolute, out var u) && u.Scheme is "https" or "http" && u.Query.Length == 0 && u.Fragment.Length == 0
            ? u
            : throw new InvalidOperationException(
                $"OcpiHubOptions.PublicBaseUrl must be the absolute http(s) URL of the hub's OCPI root (e.g. https://hub.example.com/ocpi); it is '{_publicBaseUrl ?? "(not set)"}'.");

    /// <summary>For a CPO/eMSP pair without a recorded roaming agreement: open (they roam) or closed (they do not).</summary>
    public Agreements.RoamingDefault RoamingDefault { get; set; } = Agreements.RoamingDefault.Open;

    /// <summary>
    /// How old this instance's view of the roaming agreements may get before it reloads them (what another instance
    /// changed is enforced here within about this time); zero never reloads (one instance owns the store).
    /// </summary>
    public TimeSpan AgreementRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Default time the hub waits for a party before answering 4002 (or applying the whitelist to an authorization).</summary>
    public TimeSpan PartyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Calls in flight to one party before further calls to it fail fast (the per-party bulkhead).</summary>
    public int MaxConcurrentCallsPerParty { get; set; } = 512;

    /// <summary>
    /// Calls to one party that must have ended without an answer (timeouts, refused connections), with none answered,
    /// within <see cref="CircuitBreakerSamplingDuration"/> before the hub stops calling that party for
    /// <see cref="CircuitBreakerOpenTime"/> and answers at once as for a timeout (4002, or the whitelist policy for
    /// authorizations); then one probe call decides whether it is back. Zero disables the breaker; otherwise at least 2.
    /// </summary>
    public int CircuitBreakerFailures { get; set; } = 5;
    /// <summary>The window in which <see cref="CircuitBreakerFailures"/> are counted (at least 0.5 s).</summary>
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How long an open breaker fails a party's calls at once (at least 0.5 s).</summary>
    public TimeSpan CircuitBreakerOpenTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest page the hub serves (X-Limit).</summary>
    public int MaxPageSize { get; set; } = 100;

    /// <summary>
    /// How old this instance's in-memory view of the parties may get before it reloads it from the store (what other
    /// instances changed); zero never reloads (one instance owns the store).
    /// </summary>
    public TimeSpan PartyRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the hub keeps a forwarded command's response_url for the CPO's asynchronous CommandResult.</summary>
    public TimeSpan CommandResultTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Commands one party may have awaiting their CommandResult at once (hub-wide with the PostgreSQL store); past it the party's next
    /// command is refused, so one party cannot fill the hub-wide table and lock every other party out.
    /// </summary>
    public int MaxPendingCommandsPerParty { get; set; } = 1_000;

    /// <summary>
    /// Which addresses party URLs may lead to: internal ones (loopback, private, link-local, ...) only when allow-listed.
    /// A host that runs its parties on loopback (tests, the roaming sample) allow-lists 127.0.0.0/8 explicitly.
    /// </summary>
    public PlugAndCharge.Core.Outbound.OutboundNetworkPolicy Outbound { get; set; } = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Default;

    /// <summary>Largest answer the hub reads from a party (a page of locations, CDRs ...); more counts as unreachable.</summary>
    public int MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How often the still-alive check calls each registered party's versions endpoint; zero disables it.</summary>
    public TimeSpan LivenessInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How soon a failed push of a location or tariff to a party is first tried again (doubling up to 10 minutes); zero disables retries.</summary>
    public TimeSpan StorePushRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of one push before the hub gives up (the party can still GET the list with date_from).</summary>
    public int StorePushMaxAttempts { get; set; } = 20;

    /// <summary>How often the hub pulls the changes of CPOs' locations and tariffs sender interfaces (date_from = last sync); zero disables it.</summary>
    public TimeSpan StorePollInterval { get; set; } = TimeSpan.FromMinutes(5);
}
