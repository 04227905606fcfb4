using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>The root certificate pool in process memory.</summary>
public sealed class InMemoryRootCertificateStore(InMemoryContractData data, IAuditLog audit) : IRootCertificateStore
{
    public async Task AddRootAsync(RootCertificate root, AuditEvent e, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (data.Roots.Values.Any(r => r.Fingerprint == root.Fingerprint))
                throw new ContractException(ContractError.AlreadyExists, $"The root {root.Fingerprint} is registered already.");
            data.Roots[root.Id] = root;
        }
        await audit.AppendAsync(e, ct);
    }

    public Task<RootCertificate?> GetRootAsync(Guid id, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult(data.Roots.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<RootCertificate>> ListRootsAsync(CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<RootCertificate>>(data.Roots.Values.OrderBy(r => r.AddedAt).ToList());
    }

    public async Task<bool> DeleteRootAsync(Guid id, AuditEvent e, CancellationToken ct = default)
    {
        bool removed;
        lock (data.Lock) removed = data.Roots.Remove(id);
        if (removed) await audit.AppendAsync(e, ct);
        return removed;
    }
}
