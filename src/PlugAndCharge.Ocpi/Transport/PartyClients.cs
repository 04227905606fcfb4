using System.Collections.Concurrent;
using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.Ocpi.Transport;

/// <summary>One <see cref="PartyClient"/> per party (its own pool and bulkhead), created on first use.</summary>
public sealed class PartyClients(OcpiHubOptions options) : IDisposable
{
    private readonly ConcurrentDictionary<string, PartyClient> _clients = new(StringComparer.Ordinal);

    public PartyClient For(PartyRecord party) =>
        _clients.GetOrAdd(party.Id, _ => new PartyClient(options.MaxConcurrentCallsPerParty, TimeoutFor(party), options.CircuitBreakerFailures, options.CircuitBreakerOpenTime,
            options.Outbound, options.MaxResponseBytes));

    public TimeSpan TimeoutFor(PartyRecord party) => party.Timeout ?? options.PartyTimeout;

    public void Dispose()
    {
        foreach (var c in _clients.Values) c.Dispose();
        _clients.Clear();
    }
}
