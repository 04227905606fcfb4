namespace PlugAndCharge.Pki.Ocsp;

/// <summary>Settings of the OCSP responder (section "Ocsp" of the configuration).</summary>
public sealed class OcspOptions
{
    /// <summary>thisUpdate to nextUpdate of a good or revoked answer; cached answers are re-signed at half this (RFC 5019 §6).</summary>
    public TimeSpan ResponseValidity { get; set; } = TimeSpan.FromDays(1);
    /// <summary>thisUpdate to nextUpdate of an unknown answer: short, so a certificate issued afterwards is soon answered.</summary>
    public TimeSpan UnknownValidity { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>How often each CA's revoked serials are re-read from the store, so a revocation made by any instance drops the cached answer.</summary>
    public TimeSpan RevocationPollInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Largest OCSPRequest accepted; larger ones answer malformedRequest unread.</summary>
    public int MaxRequestBytes { get; set; } = 64 * 1024;
    /// <summary>Most CertIDs in one OCSPRequest (bounds the work one request can cause).</summary>
    public int MaxCertIdsPerRequest { get; set; } = 64;
    /// <summary>Pre-signed answers kept per CA; past this, answers are still signed but not cached.</summary>
    public int MaxCachedResponsesPerCa { get; set; } = 200_000;
    /// <summary>
    /// Answers one client may have signed on the spot per second (a cache miss, a nonce, several CertIDs), with bursts
    /// of twice that; past it the client gets tryLater. Cached answers are never limited. Zero: no limit.
    /// </summary>
    public int OnDemandSignaturesPerClientPerSecond { get; set; } = 100;
    /// <summary>
    /// Answers signed on the spot per second for all clients together (bursts of twice that); zero: no limit. Both
    /// budgets are per instance: with N instances set each to the hub's budget / N (operator guide §7).
    /// </summary>
    public int OnDemandSignaturesPerSecond { get; set; } = 2_000;
}
