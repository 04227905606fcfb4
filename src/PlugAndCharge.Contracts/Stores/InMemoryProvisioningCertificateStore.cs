using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>The provisioning certificate pool in process memory.</summary>
public sealed class InMemoryProvisioningCertificateStore(InMemoryContractData data, IAuditLog audit) : IProvisioningCertificateStore
{
    public async Task PutProvisioningAsync(ProvisioningCertificate vehicle, AuditEvent e, CancellationToken ct = default)
    {
        lock (data.Lock) data.Vehicles[vehicle.Pcid] = vehicle;
        await audit.AppendAsync(e, ct);
    }

    public Task<ProvisioningCertificate?> GetProvisioningAsync(string pcid, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult(data.Vehicles.GetValueOrDefault(pcid));
    }

    public async Task SetProvisioningStatusAsync(string pcid, ProvisioningStatus status, AuditEvent e, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (!data.Vehicles.TryGetValue(pcid, out var v)) throw new ContractException(ContractError.UnknownVehicle, $"No vehicle {pcid}.");
            data.Vehicles[pcid] = v with { Status = status };
        }
        await audit.AppendAsync(e, ct);
    }

    public async Task<IReadOnlyList<Guid>> DeleteProvisioningAsync(string pcid, DateTimeOffset at, string reason, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        List<Contract> ended;
        lock (data.Lock)
        {
            if (!data.Vehicles.TryGetValue(pcid, out var vehicle)) return [];
            data.Enqueue(events, vehicle.OemId);
            data.Vehicles.Remove(pcid);
            ended = data.Contracts.Values.Where(c => c.Pcid == pcid && c.State == ContractState.Active).ToList();
            foreach (var c in ended) data.Contracts[c.Id] = InMemoryContractData.Terminated(c, at, reason);
        }
        await audit.AppendAsync(e, ct);
        return ended.Select(c => c.Id).ToList();
    }
}
