using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>All contract stores in process memory (tests, benchmarks, demos), audited through the given log.</summary>
public sealed class InMemoryContractStore(IAuditLog audit, ICertificateStore certificates) : IRootCertificateStore, IProvisioningCertificateStore, IContractStore, IWebhookStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, RootCertificate> _roots = [];
    private readonly Dictionary<string, ProvisioningCertificate> _vehicles = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, Contract> _contracts = [];
    private readonly Dictionary<Guid, WebhookEndpoint> _endpoints = [];
    private readonly Dictionary<Guid, WebhookDelivery> _deliveries = [];
    private readonly List<WebhookAttempt> _attempts = [];
    private readonly Dictionary<string, (int Next, DateTimeOffset At)> _cursors = new(StringComparer.Ordinal);

    // ---- roots ----

    public async Task AddRootAsync(RootCertificate root, AuditEvent e, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (_roots.Values.Any(r => r.Fingerprint == root.Fingerprint))
                throw new ContractException(ContractError.AlreadyExists, $"The root {root.Fingerprint} is registered already.");
            _roots[root.Id] = root;
        }
        await audit.AppendAsync(e, ct);
    }

    public Task<RootCertificate?> GetRootAsync(Guid id, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult(_roots.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<RootCertificate>> ListRootsAsync(CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<RootCertificate>>(_roots.Values.OrderBy(r => r.AddedAt).ToList());
    }

    public async Task<bool> DeleteRootAsync(Guid id, AuditEvent e, CancellationToken ct = default)
    {
        bool removed;
        lock (_lock) removed = _roots.Remove(id);
        if (removed) await audit.AppendAsync(e, ct);
        return removed;
    }

    // ---- vehicles ----

    public async Task PutProvisioningAsync(ProvisioningCertificate vehicle, AuditEvent e, CancellationToken ct = default)
    {
        lock (_lock) _vehicles[vehicle.Pcid] = vehicle;
        await audit.AppendAsync(e, ct);
    }

    public Task<ProvisioningCertificate?> GetProvisioningAsync(string pcid, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult(_vehicles.GetValueOrDefault(pcid));
    }

    public async Task SetProvisioningStatusAsync(string pcid, ProvisioningStatus status, AuditEvent e, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (!_vehicles.TryGetValue(pcid, out var v)) throw new ContractException(ContractError.UnknownVehicle, $"No vehicle {pcid}.");
            _vehicles[pcid] = v with { Status = status };
        }
        await audit.AppendAsync(e, ct);
    }

    public async Task<IReadOnlyList<Guid>> DeleteProvisioningAsync(string pcid, DateTimeOffset at, string reason, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        List<Contract> ended;
        lock (_lock)
        {
            if (!_vehicles.TryGetValue(pcid, out var vehicle)) return [];
            Enqueue(events, vehicle.OemId);
            _vehicles.Remove(pcid);
            ended = _contracts.Values.Where(c => c.Pcid == pcid && c.State == ContractState.Active).ToList();
            foreach (var c in ended) _contracts[c.Id] = Terminated(c, at, reason);
        }
        await audit.AppendAsync(e, ct);
        return ended.Select(c => c.Id).ToList();
    }

    // ---- contracts ----

    public async Task<Contract> CreateContractAsync(Contract contract, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (_contracts.Values.Any(c => c.Emaid == contract.Emaid && c.State == ContractState.Active))
                throw new ContractException(ContractError.AlreadyExists, $"An active contract for {contract.Emaid} exists.");
            if (contract.IsDefault && DefaultOfOtherEmsp(contract.Pcid, contract.EmspId)) contract = contract with { IsDefault = false };
            if (contract.IsDefault) ClearDefault(contract.Pcid);
            _contracts[contract.Id] = contract;
            if (contract.Certificate != null) AddHistory(contract.Id, contract.Certificate, contract.UpdatedAt);
            Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
        return contract;
    }

    private bool DefaultOfOtherEmsp(string pcid, string emspId) =>
        _contracts.Values.Any(c => c.Pcid == pcid && c.State == ContractState.Active && c.IsDefault && c.EmspId != emspId);

    private readonly Dictionary<Guid, List<(byte[] Sha256, ContractCertificate Certificate, DateTimeOffset At)>> _history = [];

    private void AddHistory(Guid contractId, ContractCertificate certificate, DateTimeOffset at)
    {
        var sha = System.Security.Cryptography.SHA256.HashData(certificate.Der);
        if (!_history.TryGetValue(contractId, out var list)) _history[contractId] = list = [];
        if (!list.Any(h => h.Sha256.AsSpan().SequenceEqual(sha))) list.Add((sha, certificate, at));
    }

    private List<ContractCertificateEntry> History(Guid contractId)
    {
        var list = _history.GetValueOrDefault(contractId) ?? [];
        var current = _contracts.GetValueOrDefault(contractId)?.Certificate;
        return list.Select((h, i) => new ContractCertificateEntry(h.Certificate.IssuerId, h.Certificate.Serial, h.Certificate.NotAfter, h.At,
            current != null && current.Der.AsSpan().SequenceEqual(h.Certificate.Der) ? null : i + 1 < list.Count ? list[i + 1].At : h.At)).ToList();
    }

    public Task<ContractCertificateEntry?> FindContractCertificateAsync(Guid contractId, byte[] sha256, CancellationToken ct = default)
    {
        lock (_lock)
        {
            var list = _history.GetValueOrDefault(contractId) ?? [];
            var i = list.FindIndex(h => h.Sha256.AsSpan().SequenceEqual(sha256));
            return Task.FromResult(i < 0 ? null : History(contractId)[i]);
        }
    }

    public Task<IReadOnlyList<ContractCertificateEntry>> ListContractCertificatesAsync(Guid contractId, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<ContractCertificateEntry>>(History(contractId));
    }

    public Task<Contract?> GetContractAsync(Guid id, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult(_contracts.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<Contract>> FindByEmaidAsync(string emaid, CancellationToken ct = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<Contract>>(_contracts.Values.Where(c => c.Emaid == emaid)
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
        lock (_lock) return Task.FromResult<IReadOnlyList<Contract>>(_contracts.Values.Where(c => c.Pcid == pcid).OrderBy(c => c.CreatedAt).ToList());
    }

    public Task<(ProvisioningCertificate? Vehicle, IReadOnlyList<Contract> Contracts)> GetInstallationContextAsync(string pcid, CancellationToken ct = default)
    {
        lock (_lock)
            return Task.FromResult<(ProvisioningCertificate?, IReadOnlyList<Contract>)>((_vehicles.GetValueOrDefault(pcid),
                _contracts.Values.Where(c => c.Pcid == pcid && c.State == ContractState.Active).OrderBy(c => c.CreatedAt).ToList()));
    }

    public Task<int?> GetInstallationCursorAsync(string sessionKey, DateTimeOffset notBefore, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult(_cursors.TryGetValue(sessionKey, out var c) && c.At >= notBefore ? c.Next : (int?)null);
    }

    public Task SetInstallationCursorAsync(string sessionKey, int next, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (_cursors.Count > 10_000)
                foreach (var stale in _cursors.Where(c => c.Value.At < forgetBefore).Select(c => c.Key).ToList()) _cursors.Remove(stale);
            _cursors[sessionKey] = (next, at);
        }
        return Task.CompletedTask;
    }

    public async Task SetDefaultAsync(string pcid, Guid contractId, AuditEvent e, IReadOnlyList<WebhookEvent> events, string? onlyOverEmsp = null, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (!_contracts.TryGetValue(contractId, out var c) || c.Pcid != pcid || c.State != ContractState.Active)
                throw new ContractException(ContractError.UnknownContract, $"No active contract {contractId} for {pcid}.");
            if (onlyOverEmsp != null && DefaultOfOtherEmsp(pcid, onlyOverEmsp))
                throw new ContractException(ContractError.DefaultHeldByOther, $"Another eMSP's contract is the default of {pcid}; the vehicle's OEM chooses between eMSPs.");
            ClearDefault(pcid);
            _contracts[contractId] = c with { IsDefault = true };
            Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
    }

    public async Task RecordCertificateAsync(Guid contractId, ContractCertificate certificate, byte[]? signedData, DateTimeOffset at, AuditEvent e, IReadOnlyList<WebhookEvent> events,
        PendingIssuance? issuance = null, CancellationToken ct = default)
    {
        // A terminated contract takes no certificate, and the CA records none for it.
        lock (_lock) ActiveContract(contractId);
        if (issuance != null) await certificates.RecordIssuedAsync(issuance.Issued.Record, issuance.Audit, ct);
        lock (_lock)
        {
            var c = ActiveContract(contractId);
            _contracts[contractId] = c with { Certificate = certificate, SignedData = signedData ?? c.SignedData, UpdatedAt = at };
            AddHistory(contractId, certificate, at);
            Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
    }

    private Contract ActiveContract(Guid contractId) =>
        _contracts.TryGetValue(contractId, out var c) && c.State == ContractState.Active ? c
        : throw new ContractException(ContractError.ContractTerminated, $"Contract {contractId} is not active.");

    public async Task<bool> TerminateAsync(Guid contractId, DateTimeOffset at, string reason, AuditEvent e, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (!_contracts.TryGetValue(contractId, out var c) || c.State != ContractState.Active) return false;
            _contracts[contractId] = Terminated(c, at, reason);
            Enqueue(events, null);
        }
        await audit.AppendAsync(e, ct);
        return true;
    }

    private static Contract Terminated(Contract c, DateTimeOffset at, string reason) => c with
    {
        State = ContractState.Terminated, IsDefault = false, TerminatedAt = at, TerminationReason = reason, UpdatedAt = at, SignedData = null,
        Certificate = c.Certificate is { } cert ? cert with { WrappedPrivateKey = null, VehicleEncryptedKey = null, DhPublicKey = null } : null,
    };

    private void ClearDefault(string pcid)
    {
        foreach (var other in _contracts.Values.Where(c => c.Pcid == pcid && c.IsDefault).ToList())
            _contracts[other.Id] = other with { IsDefault = false };
    }

    // ---- webhooks ----

    /// <summary>Fans each event out to the enabled endpoints of the OEM owning its PCID (caller holds the lock).</summary>
    private void Enqueue(IReadOnlyList<WebhookEvent> events, string? oemId)
    {
        foreach (var ev in events)
        {
            var owner = oemId ?? _vehicles.GetValueOrDefault(ev.Pcid)?.OemId;
            if (owner == null) continue;
            foreach (var ep in _endpoints.Values.Where(p => p.OwnerId == owner && p.Status == WebhookEndpointStatus.Enabled && p.EnabledEvents.Contains(ev.EventType)))
            {
                var d = new WebhookDelivery { Id = Guid.NewGuid(), EndpointId = ep.Id, EventId = ev.EventId, EventType = ev.EventType, Payload = ev.Payload, NextAttemptAt = ev.At };
                _deliveries[d.Id] = d;
            }
        }
    }

    public async Task AddEndpointAsync(WebhookEndpoint endpoint, AuditEvent e, CancellationToken ct = default)
    {
        lock (_lock) _endpoints[endpoint.Id] = endpoint;
        await audit.AppendAsync(e, ct);
    }

    public Task<WebhookEndpoint?> GetEndpointAsync(Guid id, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult(_endpoints.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string ownerId, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<WebhookEndpoint>>(_endpoints.Values.Where(e => e.OwnerId == ownerId).OrderBy(e => e.CreatedAt).ToList());
    }

    public async Task<bool> UpdateEndpointAsync(WebhookEndpoint endpoint, AuditEvent e, CancellationToken ct = default)
    {
        bool found;
        lock (_lock)
        {
            found = _endpoints.ContainsKey(endpoint.Id);
            if (found) _endpoints[endpoint.Id] = endpoint;
        }
        if (found) await audit.AppendAsync(e, ct);
        return found;
    }

    public async Task<bool> DeleteEndpointAsync(Guid id, AuditEvent e, CancellationToken ct = default)
    {
        bool removed;
        lock (_lock) removed = _endpoints.Remove(id);
        if (removed) await audit.AppendAsync(e, ct);
        return removed;
    }

    public Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken ct = default)
    {
        lock (_lock)
        {
            var due = _deliveries.Values.Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now).OrderBy(d => d.NextAttemptAt).Take(max).ToList();
            foreach (var d in due) _deliveries[d.Id] = d with { NextAttemptAt = now + lease };
            return Task.FromResult<IReadOnlyList<WebhookDelivery>>(due);
        }
    }

    public Task RecordAttemptAsync(WebhookAttempt attempt, WebhookDeliveryState state, DateTimeOffset? nextAttemptAt, CancellationToken ct = default)
    {
        lock (_lock)
        {
            _attempts.Add(attempt);
            var d = _deliveries[attempt.DeliveryId];
            _deliveries[d.Id] = d with
            {
                State = state, Attempts = attempt.Attempt, LastStatusCode = attempt.StatusCode, LastError = attempt.Error,
                NextAttemptAt = nextAttemptAt ?? d.NextAttemptAt, DeliveredAt = state == WebhookDeliveryState.Delivered ? attempt.At : d.DeliveredAt,
            };
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(Guid endpointId, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<WebhookDelivery>>(_deliveries.Values.Where(d => d.EndpointId == endpointId).OrderBy(d => d.NextAttemptAt).ToList());
    }

    public Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(Guid deliveryId, CancellationToken ct = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<WebhookAttempt>>(_attempts.Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Attempt).ToList());
    }
}
