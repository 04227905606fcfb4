using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>The root certificate pool. Each write records its audit event in the same transaction.</summary>
public interface IRootCertificateStore
{
    /// <summary>Adds a root; <see cref="ContractError.AlreadyExists"/> when one with the same fingerprint is registered.</summary>
    Task AddRootAsync(RootCertificate root, AuditEvent audit, CancellationToken ct = default);
    Task<RootCertificate?> GetRootAsync(Guid id, CancellationToken ct = default);
    Task<IReadOnlyList<RootCertificate>> ListRootsAsync(CancellationToken ct = default);
    Task<bool> DeleteRootAsync(Guid id, AuditEvent audit, CancellationToken ct = default);
}

/// <summary>The provisioning certificate pool.</summary>
public interface IProvisioningCertificateStore
{
    /// <summary>Adds or replaces the vehicle's certificate (a renewed provisioning certificate keeps its contracts).</summary>
    Task PutProvisioningAsync(ProvisioningCertificate vehicle, AuditEvent audit, CancellationToken ct = default);
    Task<ProvisioningCertificate?> GetProvisioningAsync(string pcid, CancellationToken ct = default);
    Task SetProvisioningStatusAsync(string pcid, ProvisioningStatus status, AuditEvent audit, CancellationToken ct = default);
    /// <summary>
    /// Deletes the vehicle and terminates its active contracts (wrapped keys and signed data purged) in one transaction,
    /// queuing <paramref name="events"/> (built before the delete, while the OEM is still known). Returns the contracts
    /// it terminated, none when the vehicle is unknown.
    /// </summary>
    Task<IReadOnlyList<Guid>> DeleteProvisioningAsync(string pcid, DateTimeOffset at, string reason, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default);
}

/// <summary>Contracts. Writes carry their audit event and the webhook events they cause, committed together.</summary>
public interface IContractStore
{
    /// <summary>
    /// Adds a contract and returns it as stored. When it asks to be the default it becomes the default only if no active
    /// contract of another eMSP is (that one stays: the vehicle's side chooses between eMSPs); the same eMSP's other
    /// contracts stop being default. AlreadyExists when an active contract has the EMAID.
    /// </summary>
    Task<Contract> CreateContractAsync(Contract contract, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default);
    Task<Contract?> GetContractAsync(Guid id, CancellationToken ct = default);
    /// <summary>Every contract with this EMAID, the active one first, then newest first.</summary>
    Task<IReadOnlyList<Contract>> FindByEmaidAsync(string emaid, CancellationToken ct = default);
    Task<IReadOnlyList<Contract>> ListForVehicleAsync(string pcid, CancellationToken ct = default);
    /// <summary>
    /// What real-time authorization needs of the contract with this EMAID (the active one, else the newest), without
    /// its keys, signed data or certificate bytes; null when there is none. The hot path of OCPP Authorize and OCPI.
    /// </summary>
    Task<ContractStatusRecord?> FindStatusAsync(string emaid, CancellationToken ct = default);
    /// <summary>The vehicle and its active contracts, in one read: what an installation needs.</summary>
    Task<(ProvisioningCertificate? Vehicle, IReadOnlyList<Contract> Contracts)> GetInstallationContextAsync(string pcid, CancellationToken ct = default);
    /// <summary>
    /// The -20 delivery cursor of one V2G session (which of the vehicle's contracts its next CertificateInstallationReq
    /// gets), if it was set at or after <paramref name="notBefore"/>. Stored, so whichever instance answers the
    /// follow-up request continues the count instead of starting over.
    /// </summary>
    Task<int?> GetInstallationCursorAsync(string sessionKey, DateTimeOffset notBefore, CancellationToken ct = default);
    /// <summary>Sets the session's cursor and forgets cursors last set before <paramref name="forgetBefore"/>.</summary>
    Task SetInstallationCursorAsync(string sessionKey, int next, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken ct = default);
    /// <summary>
    /// Makes the contract the vehicle's default. With <paramref name="onlyOverEmsp"/> (an eMSP asking) only a default of
    /// that eMSP's own contracts is displaced: when another eMSP's contract is the default nothing changes and
    /// <see cref="ContractError.DefaultHeldByOther"/> is thrown. Null (the OEM of the vehicle, the operator) displaces any.
    /// </summary>
    Task SetDefaultAsync(string pcid, Guid contractId, AuditEvent audit, IReadOnlyList<WebhookEvent> events, string? onlyOverEmsp = null, CancellationToken ct = default);
    /// <summary>
    /// The certificate with this SHA-256 (of its DER) if it was ever linked to the contract, with when it was superseded;
    /// null when the contract never had it.
    /// </summary>
    Task<ContractCertificateEntry?> FindContractCertificateAsync(Guid contractId, byte[] sha256, CancellationToken ct = default);
    /// <summary>Every certificate the contract has had, oldest first.</summary>
    Task<IReadOnlyList<ContractCertificateEntry>> ListContractCertificatesAsync(Guid contractId, CancellationToken ct = default);
    /// <summary>
    /// Links a contract to its (new) certificate; with <paramref name="issuance"/> (a hub-issued certificate) also stores
    /// the CA's record and audit entry of it in the same transaction. The hot path of installation, so implementations
    /// may group-commit.
    /// </summary>
    Task RecordCertificateAsync(Guid contractId, ContractCertificate certificate, byte[]? signedData, DateTimeOffset at, AuditEvent audit, IReadOnlyList<WebhookEvent> events,
        PendingIssuance? issuance = null, CancellationToken ct = default);
    /// <summary>Marks the contract terminated and purges its wrapped key and signed data. False when it was not active.</summary>
    Task<bool> TerminateAsync(Guid contractId, DateTimeOffset at, string reason, AuditEvent audit, IReadOnlyList<WebhookEvent> events, CancellationToken ct = default);
}

/// <summary>
/// A certificate a contract has had. <see cref="SupersededAt"/> is null for the current one, else when the next
/// certificate was linked. <see cref="IssuerId"/> is null for a certificate an eMSP's own MO CA made.
/// </summary>
public sealed record ContractCertificateEntry(string? IssuerId, string Serial, DateTimeOffset NotAfter, DateTimeOffset RecordedAt, DateTimeOffset? SupersededAt);

/// <summary>Webhook endpoints and the delivery outbox.</summary>
public interface IWebhookStore
{
    Task AddEndpointAsync(WebhookEndpoint endpoint, AuditEvent audit, CancellationToken ct = default);
    Task<WebhookEndpoint?> GetEndpointAsync(Guid id, CancellationToken ct = default);
    Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string ownerId, CancellationToken ct = default);
    Task<bool> DeleteEndpointAsync(Guid id, AuditEvent audit, CancellationToken ct = default);
    /// <summary>Replaces an endpoint's URL, events, description and status (never its secret); false when it is gone.</summary>
    Task<bool> UpdateEndpointAsync(WebhookEndpoint endpoint, AuditEvent audit, CancellationToken ct = default);
    /// <summary>Takes up to <paramref name="max"/> due pending deliveries and leases them (moves their next attempt past the lease) so parallel dispatchers do not double-send.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken ct = default);
    Task RecordAttemptAsync(WebhookAttempt attempt, WebhookDeliveryState state, DateTimeOffset? nextAttemptAt, CancellationToken ct = default);
    Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(Guid endpointId, CancellationToken ct = default);
    Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(Guid deliveryId, CancellationToken ct = default);
}

/// <summary>
/// A contract's state and its certificate's facts for authorization. <see cref="CertificateRevoked"/> is null when the
/// store cannot tell (the caller then asks the CA's certificate store).
/// </summary>
public sealed record ContractStatusRecord(string Emaid, ContractState State, string Pcid, string EmspId, string? CertificateIssuerId, string? CertificateSerial,
    DateTimeOffset? CertificateNotBefore, DateTimeOffset? CertificateNotAfter, bool? CertificateRevoked);
