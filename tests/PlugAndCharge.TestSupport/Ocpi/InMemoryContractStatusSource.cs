using System.Collections.Concurrent;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.ContractChecks;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Contract states set by hand (tests, development).</summary>
public sealed class InMemoryContractStatusSource : IContractStatusSource
{
    private readonly ConcurrentDictionary<string, ContractState> _states = new(StringComparer.Ordinal);

    /// <summary>Keyed by provider prefix + instance, so the check character does not matter.</summary>
    private static string Key(Emaid e) => e.ProviderPrefix + e.Instance;

    public void Set(Emaid emaid, ContractState state) => _states[Key(emaid)] = state;

    public ValueTask<ContractState> GetAsync(Emaid emaid, CancellationToken ct = default) =>
        ValueTask.FromResult(_states.GetValueOrDefault(Key(emaid)) ?? ContractState.None);
}

/// <summary>Knows no contracts: every EMAID is relayed to its eMSP.</summary>
public sealed class NoContractStatusSource : IContractStatusSource
{
    public ValueTask<ContractState> GetAsync(Emaid emaid, CancellationToken ct = default) => ValueTask.FromResult(ContractState.None);
}
