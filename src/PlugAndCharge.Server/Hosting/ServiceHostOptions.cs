using System.Security.Cryptography.X509Certificates;

namespace PlugAndCharge.Server.Hosting;

/// <summary>Where the service listens and with what: public HTTP for revocation services, HTTPS with client certificates for participants.</summary>
public sealed class ServiceHostOptions
{
    /// <summary>Plain-HTTP listeners for what RFC 6960/5280 publish unauthenticated: OCSP, CRLs, CA certificates, health.</summary>
    public IReadOnlyList<string> HttpUrls { get; init; } = ["http://127.0.0.1:5080"];

    /// <summary>HTTPS listeners for participants (mutual TLS or bearer tokens); none when no server certificate is given.</summary>
    public IReadOnlyList<string> HttpsUrls { get; init; } = [];

    /// <summary>The HTTPS server certificate with its private key.</summary>
    public X509Certificate2? ServerCertificate { get; init; }

    /// <summary>HMAC key of the OAuth2 access tokens, shared by every instance (at least 32 bytes).</summary>
    public required byte[] TokenSigningKey { get; init; }

    /// <summary>
    /// Public https URL of the OCPI root (https://hub.example.com/ocpi), required: the hub builds every URL it hands out
    /// from it, serves OCPI only to requests for its host and port, and only over HTTPS.
    /// </summary>
    public string? OcpiPublicBaseUrl { get; init; }

    /// <summary>For a CPO/eMSP pair without a recorded roaming agreement: open (they roam, the default) or closed.</summary>
    public PlugAndCharge.Ocpi.Agreements.RoamingDefault OcpiRoamingDefault { get; init; } = PlugAndCharge.Ocpi.Agreements.RoamingDefault.Open;

    /// <summary>
    /// AES-256 data-at-rest key (32 bytes, from a secret store): wraps contract private keys and webhook secrets, and
    /// (through a derived key) encrypts the OCPI tokens B the hub stores. Required by the host.
    /// </summary>
    public byte[]? ContractKeyEncryptionKey { get; init; }

    /// <summary>
    /// The dedicated secret (at least 32 bytes, from a secret store, shared by every instance) service-generated station
    /// passwords are kept under as keyed hashes (OcppOptions.StationPasswordKey). Required by the host.
    /// </summary>
    public byte[]? StationPasswordKey { get; init; }

    /// <summary>
    /// How long a contract certificate that was replaced still signs a CertificateUpdateReq for its contract
    /// (<see cref="PlugAndCharge.Contracts.ContractOptions.SupersededCertificateGrace"/>); null keeps the default, 14 days.
    /// </summary>
    public TimeSpan? SupersededContractCertificateGrace { get; init; }

    /// <summary>CPS leaf signers of installation responses (one per ISO standard at least).</summary>
    public IReadOnlyList<PlugAndCharge.Contracts.Signing.CpsSigner> CpsSigners { get; init; } = [];

    /// <summary>Retry schedule and polling of webhook deliveries to OEMs (the dispatcher runs with the host).</summary>
    public PlugAndCharge.Contracts.Webhooks.WebhookDispatchOptions WebhookDispatch { get; init; } = new();

    /// <summary>Heartbeat and liveness of this instance for the stations all instances share (docs/operator-guide.md §7).</summary>
    public PlugAndCharge.Storage.Ocpp.StationPresenceOptions StationPresence { get; init; } = new();

    /// <summary>
    /// Internal addresses (CIDRs or host names) that participant-supplied URLs may reach: OCPI party URLs, webhook URLs,
    /// foreign OCSP responders. Empty in production; the development setup and tests allow loopback explicitly.
    /// </summary>
    public PlugAndCharge.Core.Outbound.OutboundNetworkPolicy Outbound { get; init; } = PlugAndCharge.Core.Outbound.OutboundNetworkPolicy.Default;

    /// <summary>
    /// How often Kestrel walks its open connections (Hosting/KestrelHeartbeat): 5 s instead of Kestrel's 1 s, for fleets
    /// of tens of thousands of stations; its HTTP timeouts and Date header are that much less precise. 1 s restores Kestrel's.
    /// </summary>
    public TimeSpan KestrelHeartbeatInterval { get; init; } = DefaultKestrelHeartbeatInterval;

    public static readonly TimeSpan DefaultKestrelHeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>Operator settings of the OCPP service (heartbeat interval, boot admission; docs/operator-guide.md §6).</summary>
    public Action<PlugAndCharge.Ocpp.OcppOptions>? ConfigureOcpp { get; init; }

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Log level of the host's structured (JSON) console logs.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Warning;
}
