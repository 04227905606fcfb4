using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Webhooks;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>
/// The state the in-memory contract stores share, as the PostgreSQL stores share one database: one lock over the
/// roots, vehicles, contracts and webhooks, so a change that spans aggregates (a vehicle's deletion ends its contracts
/// and queues webhooks) is atomic.
/// </summary>
public sealed class InMemoryContractData
{
    internal InMemoryContractData() { }

    internal Lock Lock { get; } = new();
    internal Dictionary<Guid, RootCertificate> Roots { get; } = [];
    internal Dictionary<string, ProvisioningCertificate> Vehicles { get; } = new(StringComparer.Ordinal);
    internal Dictionary<Guid, Contract> Contracts { get; } = [];
    internal Dictionary<Guid, List<(byte[] Sha256, ContractCertificate Certificate, DateTimeOffset At)>> History { get; } = [];
    internal Dictionary<Guid, WebhookEndpoint> Endpoints { get; } = [];
    internal Dictionary<Guid, WebhookDelivery> Deliveries { get; } = [];
    internal List<WebhookAttempt> Attempts { get; } = [];
    internal Dictionary<string, (int Next, DateTimeOffset At)> Cursors { get; } = new(StringComparer.Ordinal);

    /// <summary>Fans each event out to the enabled endpoints of the OEM owning its PCID (caller holds the lock).</summary>
    internal void Enqueue(IReadOnlyList<WebhookEvent> events, string? oemId)
    {
        foreach (var ev in events)
        {
            var owner = oemId ?? Vehicles.GetValueOrDefault(ev.Pcid)?.OemId;
            if (owner == null) continue;
            foreach (var ep in Endpoints.Values.Where(p => p.OwnerId == owner && p.Status == WebhookEndpointStatus.Enabled && p.EnabledEvents.Contains(ev.EventType)))
            {
                var d = new WebhookDelivery { Id = Guid.NewGuid(), EndpointId = ep.Id, EventId = ev.EventId, EventType = ev.EventType, Payload = ev.Payload, NextAttemptAt = ev.At };
                Deliveries[d.Id] = d;
            }
        }
    }

    internal void ClearDefault(string pcid)
    {
        foreach (var other in Contracts.Values.Where(c => c.Pcid == pcid && c.IsDefault).ToList())
            Contracts[other.Id] = other with { IsDefault = false };
    }

    internal static Contract Terminated(Contract c, DateTimeOffset at, string reason) => c with
    {
        State = ContractState.Terminated, IsDefault = false, TerminatedAt = at, TerminationReason = reason, UpdatedAt = at, SignedData = null,
        Certificate = c.Certificate is { } cert ? cert with { WrappedPrivateKey = null, VehicleEncryptedKey = null, DhPublicKey = null } : null,
    };
}
