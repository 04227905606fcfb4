using System.Security.Cryptography;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>
/// Contracts of eMSPs: bind an EMAID to a vehicle (or mint one), issue or renew the contract certificate, make a
/// contract the vehicle's default, terminate it, look it up, and answer its status for authorization.
/// </summary>
public sealed class ContractRegistry(
    IContractStore store,
    IProvisioningCertificateStore vehicles,
    ContractCertificateIssuer certificates,
    CertificateRevoker revoker,
    ICertificateStore issuedCertificates,
    ContractOptions options,
    TimeProvider clock)
{
    private const string MintAlphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    private ContractCertificateStatus? _certificateStatus;

    /// <summary>Whether a contract certificate is usable (the one place that decides it).</summary>
    public ContractCertificateStatus CertificateStatus => _certificateStatus ??= new ContractCertificateStatus(issuedCertificates, clock);

    /// <summary>Binds an EMAID (given, or minted under the eMSP's provider ID) to a vehicle in the pool.</summary>
    public async Task<Contract> BindAsync(ContractOwner owner, ContractBinding binding, string actor, CancellationToken ct = default)
    {
        var pcid = ProvisioningCertificatePool.NormalizePcid(binding.Pcid);
        var vehicle = await vehicles.GetProvisioningAsync(pcid, ct) ?? throw new ContractException(ContractError.UnknownVehicle, $"No vehicle with PCID {pcid} in the provisioning certificate pool.");
        var standard = binding.Standard ?? vehicle.Standard;
        var existing = await store.ListForVehicleAsync(pcid, ct);
        // An eMSP's default applies unless another eMSP's contract is the default: between eMSPs the vehicle's OEM chooses
        // (OPCP CCP setDefault). The store enforces it; this only keeps the contract.created event right.
        var active = existing.Where(c => c.State == ContractState.Active).ToList();
        var makeDefault = !active.Any(c => c.IsDefault) || (binding.MakeDefault && !active.Any(c => c.IsDefault && c.EmspId != owner.EmspId));

        for (var attempt = 0; ; attempt++)
        {
            var emaid = binding.Emaid != null ? ParseOwned(owner, binding.Emaid) : Mint(owner, binding.ProviderPrefix);
            var now = clock.GetUtcNow();
            var contract = new Contract
            {
                Id = Guid.NewGuid(), Emaid = emaid.Normalized, Pcid = pcid, EmspId = owner.EmspId, Standard = standard, Origin = ContractOrigin.HubIssued,
                IsDefault = makeDefault, ContractEnds = binding.ContractEnds, CreatedAt = now, UpdatedAt = now,
            };
            try
            {
                contract = await store.CreateContractAsync(contract, Audit(actor, "contract.bind", contract), [ContractWebhookPayloads.For(WebhookEvents.ContractCreated, contract, now)], ct);
            }
            catch (ContractException e) when (e.Error == ContractError.AlreadyExists && binding.Emaid == null && attempt < 3)
            {
                continue; // a minted EMAID collided: mint another
            }
            return binding.IssueCertificate ? (await EnsureCertificateAsync(contract, actor, forceNew: true, ContractKeyOf(contract, vehicle), ct)).Contract : contract;
        }
    }

    /// <summary>Issues (or renews) the contract certificate of an active hub-issued contract now.</summary>
    public async Task<Contract> IssueCertificateAsync(ContractOwner? owner, string emaid, string actor, CancellationToken ct = default)
    {
        var contract = await GetActiveAsync(owner, emaid, ct);
        var vehicle = await vehicles.GetProvisioningAsync(contract.Pcid, ct);
        var (updated, key) = await EnsureCertificateAsync(contract, actor, forceNew: true, ContractKeyOf(contract, vehicle), ct);
        CryptographicOperations.ZeroMemory(key);
        return updated;
    }

    /// <summary>The contract key type the contract's vehicle can receive (its -20 key family; P-521 when unknown).</summary>
    private static KeyAlgorithm ContractKeyOf(Contract contract, ProvisioningCertificate? vehicle) =>
        ContractCertificateIssuer.ContractKeyFor(contract.Standard, vehicle == null ? null : KeyAlgorithms.FromProfileName(vehicle.KeyAlgorithm));

    /// <summary>
    /// The certificate an installation delivers: the stored one when it has a <paramref name="keyAlgorithm"/> key and is
    /// valid for longer than <see cref="ContractOptions.RenewBefore"/> and not revoked, else a new one (recorded, OEM notified). Returns
    /// the clear private key (<see cref="IssuedContractCertificate.PrivateKey"/>) for immediate encryption; the caller
    /// zeroes it.
    /// </summary>
    internal async Task<(Contract Contract, byte[] PrivateKey)> EnsureCertificateAsync(Contract contract, string actor, bool forceNew, KeyAlgorithm keyAlgorithm, CancellationToken ct)
    {
        if (contract.Origin != ContractOrigin.HubIssued)
            throw new ContractException(ContractError.ProfileViolation, $"Contract {contract.Emaid} carries eMSP-made contract data; the hub holds no key for it.");
        var now = clock.GetUtcNow();
        if (!forceNew && contract.Certificate is { WrappedPrivateKey: not null, IssuerId: { } issuer } current && current.KeyAlgorithm == keyAlgorithm
            && current.NotAfter - now > options.RenewBefore && current.NotBefore <= now
            // A certificate the CA revoked while its contract stayed active (key compromise) is never delivered again.
            && !await CertificateStatus.IsRevokedAsync(issuer, current.Serial, ct: ct))
            return (contract, certificates.Unwrap(contract));
        var issued = await certificates.IssueAsync(contract, actor, keyAlgorithm, ct);
        var updated = contract with { Certificate = issued.Certificate, UpdatedAt = now };
        try
        {
            // The CA's record of the certificate and the contract's link to it commit together.
            await store.RecordCertificateAsync(contract.Id, issued.Certificate, null, now, new AuditEvent(actor, "contract.certificate", contract.Emaid, new Dictionary<string, string>
            {
                ["contract"] = contract.Id.ToString(), ["issuer"] = issued.Certificate.IssuerId ?? "", ["serial"] = issued.Certificate.Serial,
            }), [ContractWebhookPayloads.For(WebhookEvents.ContractUpdated, updated, now)], issued.Issuance, ct);
        }
        catch (Exception e)
        {
            CryptographicOperations.ZeroMemory(issued.PrivateKey);
            // Best effort, the original error is what the caller needs: if this fails too (the database is down), the
            // certificate is simply never recorded, and its serial, unique by construction, never comes again.
            try { await certificates.AbandonAsync(issued, actor, e.Message); }
            catch (Exception) { }
            throw;
        }
        return (updated, issued.PrivateKey);
    }

    /// <summary>
    /// Makes a contract the vehicle's default (the one a CertificateInstallationReq gets). An eMSP (<paramref name="owner"/>)
    /// may not displace another eMSP's default (<see cref="ContractError.DefaultHeldByOther"/>); the vehicle's OEM and the
    /// operator (owner null) may.
    /// </summary>
    public async Task<Contract> SetDefaultAsync(ContractOwner? owner, string pcid, string emaid, string actor, CancellationToken ct = default)
    {
        var contract = await GetActiveAsync(owner, emaid, ct);
        if (contract.Pcid != ProvisioningCertificatePool.NormalizePcid(pcid))
            throw new ContractException(ContractError.UnknownContract, $"Contract {contract.Emaid} is not bound to {pcid}.");
        var updated = contract with { IsDefault = true };
        await store.SetDefaultAsync(contract.Pcid, contract.Id, Audit(actor, "contract.default", contract), [ContractWebhookPayloads.For(WebhookEvents.ContractUpdated, updated, clock.GetUtcNow())],
            owner?.EmspId, ct);
        return updated;
    }

    /// <summary>Ends a contract: revokes its hub-issued certificate, purges keys and signed data, notifies the OEM.</summary>
    public async Task<Contract> TerminateAsync(ContractOwner? owner, string emaid, string reason, string actor, CancellationToken ct = default)
    {
        var contract = await GetActiveAsync(owner, emaid, ct);
        var revocation = new ContractCertificateRevocation(revoker, store, actor);
        await revocation.RevokeAsync([contract], ct);
        var now = clock.GetUtcNow();
        var events = new[] { ContractWebhookPayloads.For(WebhookEvents.ContractDeleted, contract, now) };
        if (!await store.TerminateAsync(contract.Id, now, reason, Audit(actor, "contract.terminate", contract), events, ct))
            throw new ContractException(ContractError.ContractTerminated, $"Contract {contract.Emaid} is already terminated.");
        var ended = (await store.GetContractAsync(contract.Id, ct))!;
        await revocation.RevokeAsync([ended], ct);
        return ended;
    }

    /// <summary>Contracts with this EMAID (the active one first), for OPCP lookupContract.</summary>
    public async Task<IReadOnlyList<Contract>> FindAsync(string emaid, CancellationToken ct = default) =>
        await store.FindByEmaidAsync(NormalizeEmaid(emaid), ct);

    /// <summary>The active contract with this EMAID.</summary>
    public async Task<Contract> GetActiveAsync(ContractOwner? owner, string emaid, CancellationToken ct = default)
    {
        var all = await FindAsync(emaid, ct);
        if (all.Count == 0) throw new ContractException(ContractError.UnknownContract, $"No contract {emaid}.");
        var contract = all[0];
        if (owner != null && contract.EmspId != owner.EmspId) throw new ContractException(ContractError.NotOwner, $"Contract {emaid} belongs to another eMSP.");
        if (contract.State != ContractState.Active) throw new ContractException(ContractError.ContractTerminated, $"Contract {emaid} was terminated.");
        return contract;
    }

    public async Task<IReadOnlyList<Contract>> ListForVehicleAsync(string pcid, CancellationToken ct = default) =>
        await store.ListForVehicleAsync(ProvisioningCertificatePool.NormalizePcid(pcid), ct);

    /// <summary>State of the contract and its certificate for real-time authorization (OCPP Authorize, OCPI).</summary>
    public async Task<ContractStatus> GetStatusAsync(string emaid, CancellationToken ct = default)
    {
        if (!Emaid.TryParse(emaid, IdentifierStrictness.Lenient, out var parsed, out _)) return ContractStatus.Unknown(emaid);
        var c = await store.FindStatusAsync(parsed.Normalized, ct);
        if (c == null && parsed.Format == EmaidFormat.Iso15118)
        {
            // Vehicles and chargers often send the EMAID without (or with a wrong) check character.
            var body = parsed.ProviderPrefix + parsed.Instance;
            c = await store.FindStatusAsync(body + ContractIdCheckCharacter.ComputeIso(body), ct);
            if (c == null && parsed.CheckCharacter != null) c = await store.FindStatusAsync(body, ct);
        }
        if (c == null) return ContractStatus.Unknown(parsed.Normalized);
        var certState = c.CertificateSerial != null && c.CertificateNotBefore is { } notBefore && c.CertificateNotAfter is { } notAfter
            ? await CertificateStatus.OfAsync(c.CertificateIssuerId, c.CertificateSerial, notBefore, notAfter, c.CertificateRevoked, ct)
            : ContractCertificateState.None;
        return new ContractStatus(c.Emaid, true, c.State, certState, c.CertificateNotAfter, c.Pcid, c.EmspId);
    }

    internal string NormalizeEmaid(string emaid) =>
        Emaid.TryParse(emaid, options.ReceivedEmaidStrictness, out var e, out var why) ? e.Normalized : throw new ContractException(ContractError.Malformed, why);

    private Emaid ParseOwned(ContractOwner owner, string text)
    {
        if (!Emaid.TryParse(text, options.ReceivedEmaidStrictness, out var emaid, out var why)) throw new ContractException(ContractError.Malformed, why);
        if (emaid.Format != EmaidFormat.Iso15118) throw new ContractException(ContractError.Malformed, "ISO 15118 contracts need a 14-15 character EMAID (DIN SPEC 91286 IDs do not fit the -2 schema).");
        if (!owner.ProviderPrefixes.Contains(emaid.ProviderPrefix, StringComparer.OrdinalIgnoreCase))
            throw new ContractException(ContractError.ProviderNotAllowed, $"EMAID prefix {emaid.ProviderPrefix} is not one of eMSP '{owner.EmspId}'.");
        return emaid;
    }

    /// <summary>Mints an eMI3 EMAID: instance 'C' + 8 random characters, with its ISO 15118-1 check character.</summary>
    private static Emaid Mint(ContractOwner owner, string? prefix)
    {
        prefix = (prefix ?? owner.ProviderPrefixes.FirstOrDefault() ?? throw new ContractException(ContractError.ProviderNotAllowed, $"eMSP '{owner.EmspId}' has no provider ID to mint under.")).ToUpperInvariant().Replace("-", "");
        if (!owner.ProviderPrefixes.Contains(prefix, StringComparer.OrdinalIgnoreCase))
            throw new ContractException(ContractError.ProviderNotAllowed, $"Provider {prefix} is not one of eMSP '{owner.EmspId}'.");
        if (prefix.Length != 5 || !char.IsAsciiLetter(prefix[0]) || !char.IsAsciiLetter(prefix[1]) || !prefix.All(char.IsAsciiLetterOrDigit))
            throw new ContractException(ContractError.Malformed, $"'{prefix}' is not a country code + provider ID (e.g. DE8AA).");
        Span<char> instance = stackalloc char[9];
        instance[0] = 'C';
        for (var i = 1; i < 9; i++) instance[i] = MintAlphabet[RandomNumberGenerator.GetInt32(MintAlphabet.Length)];
        return Emaid.Create(prefix[..2], prefix[2..], new string(instance));
    }

    private static AuditEvent Audit(string actor, string action, Contract c) => new(actor, action, c.Emaid, new Dictionary<string, string>
    {
        ["contract"] = c.Id.ToString(), ["pcid"] = c.Pcid, ["emsp"] = c.EmspId,
    });
}
