using System.Collections.Concurrent;
using Org.BouncyCastle.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpp.Authorization;

namespace PlugAndCharge.TestSupport.Ocpp;

/// <summary>Contract states set by hand; an EMAID never set is Unknown.</summary>
public sealed class InMemoryContractAuthorization : IContractAuthorization
{
    private readonly ConcurrentDictionary<string, ContractVerdict> _states = new(StringComparer.Ordinal);

    public void Set(string emaid, ContractVerdict state) => _states[Normalize(emaid)] = state;

    public ValueTask<ContractVerdict> GetStateAsync(string emaid, X509Certificate? contractCertificate, CancellationToken ct = default) =>
        ValueTask.FromResult(_states.GetValueOrDefault(Normalize(emaid), ContractVerdict.Unknown));

    private static string Normalize(string emaid) => Emaid.TryParse(emaid, IdentifierStrictness.Lenient, out var e, out _) ? e.Normalized : emaid.ToUpperInvariant();
}
