using Org.BouncyCastle.X509;

namespace PlugAndCharge.Ocpp.Authorization;

/// <summary>
/// Whether the contract behind an EMAID may charge now, as its eMSP (through the hub) or contract provisioning decided:
/// the answer OCPP Authorize maps to idTokenInfo.status. Not the contract's own lifecycle (Contracts' ContractState).
/// </summary>
public enum ContractVerdict
{
    Active,
    Blocked,
    Expired,
    Unknown,
}

/// <summary>
/// Whether a contract may charge. Contract provisioning implements it over its contract store (and, for other
/// networks, the hub's real-time authorization with the eMSP).
/// </summary>
public interface IContractAuthorization
{
    /// <param name="emaid">Normalized EMAID (upper-case, no separators).</param>
    /// <param name="contractCertificate">The validated contract certificate when the station sent one.</param>
    ValueTask<ContractVerdict> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default);
}
