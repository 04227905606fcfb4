using System.Collections.Concurrent;
using Org.BouncyCastle.X509;
using PlugAndCharge.Core.Identifiers;

namespace PlugAndCharge.Ocpp.Authorization;

/// <summary>The state of the contract behind an EMAID, as its eMSP or contract provisioning knows it.</summary>
public enum ContractState
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
    ValueTask<ContractState> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default);
}
