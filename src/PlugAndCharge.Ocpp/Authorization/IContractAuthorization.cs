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
/// networks, the hub's real-time authorization with the eMSP); <see cref="InMemoryContractAuthorization"/> serves tests.
/// </summary>
public interface IContractAuthorization
{
    /// <param name="emaid">Normalized EMAID (upper-case, no separators).</param>
    /// <param name="contractCertificate">The validated contract certificate when the station sent one.</param>
    ValueTask<ContractState> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default);
}

/// <summary>Contract states set by hand; an EMAID never set is Unknown.</summary>
public sealed class InMemoryContractAuthorization : IContractAuthorization
{
    private readonly ConcurrentDictionary<string, ContractState> _states = new(StringComparer.Ordinal);

    public void Set(string emaid, ContractState state) => _states[Normalize(emaid)] = state;

    public ValueTask<ContractState> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default) =>
        ValueTask.FromResult(_states.GetValueOrDefault(Normalize(emaid), ContractState.Unknown));

    private static string Normalize(string emaid) => Emaid.TryParse(emaid, IdentifierStrictness.Lenient, out var e, out _) ? e.Normalized : emaid.ToUpperInvariant();
}
