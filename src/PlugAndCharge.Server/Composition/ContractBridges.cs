using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Ocpp.EvCertificates;
using PlugAndCharge.Ocpp.Authorization;

namespace PlugAndCharge.Server.Composition;

/// <summary>
/// OCPP Get15118EVCertificate answered by contract provisioning (<see cref="InstallationPipeline"/>), routed by the
/// request's namespace. The answer is always a complete EXI response, also on failure (chargers must never get an empty
/// exiResponse, docs/domain.md §6). OCPP 2.1's maximumContractCertificateChains and prioritizedEMAIDs go to a -20
/// installation, whose RemainingContractCertificateChains comes back as remainingContracts (OCPP 2.1 M01: absent for -2).
/// </summary>
public sealed class ContractEvCertificateService(InstallationPipeline installation) : IEvCertificateService
{
    public async Task<EvCertificateResult> ProcessAsync(EvCertificateRequest request, CancellationToken ct = default)
    {
        var exi = Exi(request);
        var wishes = request.MaximumContractCertificateChains != null || request.PrioritizedEmaids != null
            ? new InstallationWishes(request.MaximumContractCertificateChains, request.PrioritizedEmaids)
            : null;
        InstallationOutcome outcome;
        try { outcome = await installation.AnswerAsync(IsoStandards.FromNamespace(request.Iso15118SchemaVersion), exi, wishes, ct); }
        catch (ContractException) { outcome = await installation.AnswerAsync(IsoStandard.Iso15118_2, [], ct: ct); } // unknown namespace: a signed -2 FAILED answer
        return new EvCertificateResult(outcome.IsOk, Convert.ToBase64String(outcome.Response), outcome.IsOk ? null : outcome.Result.ToString(), outcome.RemainingContracts);
    }

    /// <summary>
    /// The part's signed FAILED answer without contract work (a -2 request that cannot be read is answered as an update:
    /// only updates are throttled). A request the database could not serve is an internal error (a -2 UpdateRes then
    /// carries RetryCounter 1: the car may ask again).
    /// </summary>
    public async Task<EvCertificateResult> RefuseAsync(EvCertificateRequest request, string reasonCode, CancellationToken ct = default)
    {
        var why = reasonCode == PlugAndCharge.Ocpp.Transport.StorageFaults.ReasonCode ? InstallationResult.DatabaseUnavailable : InstallationResult.Throttled;
        IsoStandard standard;
        try { standard = IsoStandards.FromNamespace(request.Iso15118SchemaVersion); }
        catch (ContractException) { standard = IsoStandard.Iso15118_2; }
        var outcome = await installation.RefuseAsync(standard, Exi(request), why, reasonCode, ct);
        return new EvCertificateResult(false, Convert.ToBase64String(outcome.Response), reasonCode);
    }

    /// <summary>The EXI bytes; undecodable base64 is answered like undecodable EXI, with a signed FAILED response.</summary>
    private static byte[] Exi(EvCertificateRequest request)
    {
        try { return Convert.FromBase64String(request.ExiRequest); }
        catch (FormatException) { return []; }
    }
}

/// <summary>
/// OCPP Authorize's contract state. A contract whose provider prefix belongs to an eMSP connected to the hub is
/// authorized by that eMSP in real time through the hub's relay (which answers a terminated contract or a revoked or
/// expired certificate of ours itself, docs/domain.md §7); any other contract is judged by our contract registry.
/// </summary>
public sealed class ContractAuthorizationThroughHub(ContractRegistry contracts, HubContractAuthorization hub) : PlugAndCharge.Ocpp.Authorization.IContractAuthorization
{
    public async ValueTask<ContractVerdict> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default)
    {
        if (Emaid.TryParse(emaid, IdentifierStrictness.Lenient, out var parsed, out _) && await hub.IsHubContractAsync(parsed, ct))
        {
            var answer = await hub.AuthorizeAsync(parsed, null, ct: ct);
            // OCPI AllowedType → OCPP AuthorizationStatus: ALLOWED → Accepted; EXPIRED → Expired; BLOCKED, NO_CREDIT and
            // NOT_ALLOWED → Blocked; no answer (unknown token 2004, eMSP unreachable without a whitelist entry) → Unknown.
            return answer.Allowed switch
            {
                "ALLOWED" => ContractVerdict.Active,
                "EXPIRED" => ContractVerdict.Expired,
                "BLOCKED" or "NO_CREDIT" or "NOT_ALLOWED" => ContractVerdict.Blocked,
                _ => ContractVerdict.Unknown,
            };
        }
        return await FromRegistryAsync(contracts, emaid, ct);
    }

    /// <summary>The registry's verdict: an active contract with a valid certificate is Active.</summary>
    private static async ValueTask<ContractVerdict> FromRegistryAsync(ContractRegistry contracts, string emaid, CancellationToken ct)
    {
        var status = await contracts.GetStatusAsync(emaid, ct);
        if (!status.Known) return ContractVerdict.Unknown;
        if (status.State != ContractState.Active) return ContractVerdict.Blocked;
        return status.Certificate switch
        {
            ContractCertificateState.Valid => ContractVerdict.Active,
            ContractCertificateState.Expired => ContractVerdict.Expired,
            _ => ContractVerdict.Blocked,
        };
    }
}

/// <summary>
/// What the OCPI hub knows of a contract before relaying an authorization: the contract registry first; a contract
/// certificate we issued outside the registry is still judged by its PKI record (<paramref name="fallback"/>).
/// </summary>
public sealed class ContractStatusForHub(ContractRegistry contracts, PlugAndCharge.Ocpi.ContractChecks.IContractStatusSource fallback)
    : PlugAndCharge.Ocpi.ContractChecks.IContractStatusSource
{
    public async ValueTask<ContractStatus> GetAsync(Emaid emaid, CancellationToken ct = default)
    {
        var status = await contracts.GetStatusAsync(emaid.Normalized, ct);
        return status.Known ? status : await fallback.GetAsync(emaid, ct);
    }
}
