namespace PlugAndCharge.Ocpi;

/// <summary>The hub's own identity and its limits.</summary>
public sealed class OcpiHubOptions
{
    /// <summary>The hub's OCPI country code and party ID (the HUB role in 2.2.1, hub_party_id in 2.3.0).</summary>
    public string CountryCode { get; set; } = "DE";
    public string PartyId { get; set; } = "PNC";
    public string Name { get; set; } = "PlugAndCharge Hub";
    public string? Website { get; set; }

    /// <summary>The public URL of the OCPI root (e.g. https://hub.example.com/ocpi); null takes scheme and host of each request.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Default time the hub waits for a party before answering 4002 (or applying the whitelist to an authorization).</summary>
    public TimeSpan PartyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Calls in flight to one party before further calls to it fail fast (the per-party bulkhead).</summary>
    public int MaxConcurrentCallsPerParty { get; set; } = 512;

    /// <summary>
    /// Failures in a row (timeouts, refused connections) after which the hub stops calling a party for
    /// <see cref="CircuitBreakerOpenTime"/> and answers at once as for a timeout (4002, or the whitelist policy for
    /// authorizations); zero disables the breaker.
    /// </summary>
    public int CircuitBreakerFailures { get; set; } = 5;
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
    /// Which addresses party URLs may lead to: internal ones (loopback, private, link-local, ...) only when allow-listed.
    /// A host that runs its parties on loopback (tests, the roaming sample) allow-lists 127.0.0.0/8 explicitly.
    /// </summary>
    public PlugAndCharge.Core.Outbound.OutboundNetworkPolicy Outbound { get; set; } = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Default;

    /// <summary>Largest answer the hub reads from a party (a page of locations, CDRs ...); more counts as unreachable.</summary>
    public int MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How often the still-alive check calls each registered party's versions endpoint; zero disables it.</summary>
    public TimeSpan LivenessInterval { get; set; } = TimeSpan.FromMinutes(1);
}
