using System.Collections.Concurrent;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.ContractChecks;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Contract states set by hand (tests, development).</summary>
public sealed class InMemoryContractStatusSource : IContractStatusSource
{
    private readonly ConcurrentDictionary<string, ContractStatus> _states = new(StringComparer.Ordinal);

    /// <summary>Keyed by provider prefix + instance, so the check character does not matter.</summary>
    private static string Key(Emaid e) => e.ProviderPrefix + e.Instance;

    /// <summary>A contract of ours in <paramref name="state"/> whose certificate is <paramref name="certificate"/>.</summary>
    public void Set(Emaid emaid, ContractState state, ContractCertificateState certificate) =>
        _states[Key(emaid)] = new ContractStatus(emaid.Normalized, true, state, certificate, null, null, null);

    public ValueTask<ContractStatus> GetAsync(Emaid emaid, CancellationToken ct = default) =>
        ValueTask.FromResult(_states.GetValueOrDefault(Key(emaid)) ?? ContractStatus.Unknown(emaid.Normalized));
}

/// <summary>Knows no contracts: every EMAID is relayed to its eMSP.</summary>
public sealed class NoContractStatusSource : IContractStatusSource
{
    public ValueTask<ContractStatus> GetAsync(Emaid emaid, CancellationToken ct = default) => ValueTask.FromResult(ContractStatus.Unknown(emaid.Normalized));
}
