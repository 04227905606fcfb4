using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>Contracts in process memory.</summary>
public sealed class InMemoryContractStore(InMemoryContractData data, IAuditLog audit, ICertificateStore certificates) : IContractStore
{
    public async Task<Contract> CreateContractAsync(Contract contract, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (data.Contracts.Values.Any(c => c.Emaid == contract.Emaid && c.State == ContractState.Active))
                throw new ContractException(ContractError.AlreadyExists, $"An active contract for {contract.Emaid} exists.");
            if (contract.IsDefault && DefaultOfOtherEmsp(contract.Pcid, contract.EmspId)) contract = contract with { IsDefault = false };
            if (contract.IsDefault) data.ClearDefault(contract.Pcid);
            data.Contracts[contract.Id] = contract;
            if (contract.Certificate != null) AddHistory(contract.Id, contract.Certificate, contract.UpdatedAt);
            data.Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
        return contract;
    }

    private bool DefaultOfOtherEmsp(string pcid, string emspId) =>
        data.Contracts.Values.Any(c => c.Pcid == pcid && c.State == ContractState.Active && c.IsDefault && c.EmspId != emspId);

    private void AddHistory(Guid contractId, ContractCertificate certificate, DateTimeOffset at)
    {
        var sha = System.Security.Cryptography.SHA256.HashData(certificate.Der);
        if (!data.History.TryGetValue(contractId, out var list)) data.History[contractId] = list = [];
        if (!list.Any(h => h.Sha256.AsSpan().SequenceEqual(sha))) list.Add((sha, certificate, at));
    }

    private List<ContractCertificateEntry> History(Guid contractId)
    {
        var list = data.History.GetValueOrDefault(contractId) ?? [];
        var current = data.Contracts.GetValueOrDefault(contractId)?.Certificate;
        return list.Select((h, i) => new ContractCertificateEntry(h.Certificate.IssuerId, h.Certificate.Serial, h.Certificate.NotAfter, h.At,
            current != null && current.Der.AsSpan().SequenceEqual(h.Certificate.Der) ? null : i + 1 < list.Count ? list[i + 1].At : h.At)).ToList();
    }

    public Task<ContractCertificateEntry?> FindContractCertificateAsync(Guid contractId, byte[] sha256, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            var list = data.History.GetValueOrDefault(contractId) ?? [];
            var i = list.FindIndex(h => h.Sha256.AsSpan().SequenceEqual(sha256));
            return Task.FromResult(i < 0 ? null : History(contractId)[i]);
        }
    }

    public Task<IReadOnlyList<ContractCertificateEntry>> ListContractCertificatesAsync(Guid contractId, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<ContractCertificateEntry>>(History(contractId));
    }

    public Task<Contract?> GetContractAsync(Guid id, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult(data.Contracts.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<Contract>> FindByEmaidAsync(string emaid, CancellationToken ct = default)
    {
        lock (data.Lock)
            return Task.FromResult<IReadOnlyList<Contract>>(data.Contracts.Values.Where(c => c.Emaid == emaid)
                .OrderBy(c => c.State == ContractState.Active ? 0 : 1).ThenByDescending(c => c.CreatedAt).ToList());
    }

    public async Task<ContractStatusRecord?> FindStatusAsync(string emaid, CancellationToken ct = default)
    {
        var c = (await FindByEmaidAsync(emaid, ct)).FirstOrDefault();
        return c == null ? null : new ContractStatusRecord(c.Emaid, c.State, c.Pcid, c.EmspId, c.Certificate?.IssuerId, c.Certificate?.Serial,
            c.Certificate?.NotBefore, c.Certificate?.NotAfter, null);
    }

    public Task<IReadOnlyList<Contract>> ListForVehicleAsync(string pcid, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<Contract>>(data.Contracts.Values.Where(c => c.Pcid == pcid).OrderBy(c => c.CreatedAt).ToList());
    }

    public Task<(ProvisioningCertificate? Vehicle, IReadOnlyList<Contract> Contracts)> GetInstallationContextAsync(string pcid, CancellationToken ct = default)
    {
        lock (data.Lock)
            return Task.FromResult<(ProvisioningCertificate?, IReadOnlyList<Contract>)>((data.Vehicles.GetValueOrDefault(pcid),
                data.Contracts.Values.Where(c => c.Pcid == pcid && c.State == ContractState.Active).OrderBy(c => c.CreatedAt).ToList()));
    }

    public Task<int?> GetInstallationCursorAsync(string sessionKey, DateTimeOffset notBefore, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult(data.Cursors.TryGetValue(sessionKey, out var c) && c.At >= notBefore ? c.Next : (int?)null);
    }

    public Task SetInstallationCursorAsync(string sessionKey, int next, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (data.Cursors.Count > 10_000)
                foreach (var stale in data.Cursors.Where(c => c.Value.At < forgetBefore).Select(c => c.Key).ToList()) data.Cursors.Remove(stale);
            data.Cursors[sessionKey] = (next, at);
        }
        return Task.CompletedTask;
    }

    public async Task SetDefaultAsync(string pcid, Guid contractId, AuditEvent e, IReadOnlyList<WebhookEvent> events, string? onlyOverEmsp = null, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (!data.Contracts.TryGetValue(contractId, out var c) || c.Pcid != pcid || c.State != ContractState.Active)
                throw new ContractException(ContractError.UnknownContract, $"No active contract {contractId} for {pcid}.");
            if (onlyOverEmsp != null && DefaultOfOtherEmsp(pcid, onlyOverEmsp))
                throw new ContractException(ContractError.DefaultHeldByOther, $"Another eMSP's contract is the default of {pcid}; the vehicle's OEM chooses between eMSPs.");
            data.ClearDefault(pcid);
            data.Contracts[contractId] = c with { IsDefault = true };
            data.Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
    }

    public async Task RecordCertificateAsync(Guid contractId, ContractCertificate certificate, byte[]? signedData, DateTimeOffset at, AuditEvent e, IReadOnlyList<WebhookEvent> events,
        PendingIssuance? issuance = null, CancellationToken ct = default)
    {
        // A terminated contract takes no certificate, and the CA records none for it.
        lock (data.Lock) ActiveContract(contractId);
        if (issuance != null) await certificates.RecordIssuedAsync(issuance.Issued.Record, issuance.Audit, ct);
        lock (data.Lock)
        {
            var c = ActiveContract(contractId);
            data.Contracts[contractId] = c with { Certificate = certificate, SignedData = signedData ?? c.SignedData, UpdatedAt = at };
            AddHistory(contractId, certificate, at);
            data.Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
    }

    private Contract ActiveContract(Guid contractId) =>
        data.Contracts.TryGetValue(contractId, out var c) && c.State == ContractState.Active ? c
        : throw new ContractException(ContractError.ContractTerminated, $"Contract {contractId} is not active.");

    public async Task<bool> TerminateAsync(Guid contractId, DateTimeOffset at, string reason, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            if (!data.Contracts.TryGetValue(contractId, out var c) || c.State != ContractState.Active) return false;
            data.Contracts[contractId] = InMemoryContractData.Terminated(c, at, reason);
            data.Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
        return true;
    }
}

/// <summary>All contract stores in process memory (tests, benchmarks, demos) over one shared state, audited through the given log.</summary>
public sealed class InMemoryContractStores(IAuditLog audit, ICertificateStore certificates)
{
    private readonly InMemoryContractData _data = new();
    private InMemoryRootCertificateStore? _roots;
    private InMemoryProvisioningCertificateStore? _vehicles;
    private InMemoryContractStore? _contracts;
    private InMemoryWebhookStore? _webhooks;

    public InMemoryRootCertificateStore Roots => _roots ??= new(_data, audit);
    public InMemoryProvisioningCertificateStore Vehicles => _vehicles ??= new(_data, audit);
    public InMemoryContractStore Contracts => _contracts ??= new(_data, audit, certificates);
    public InMemoryWebhookStore Webhooks => _webhooks ??= new(_data, audit);
}
