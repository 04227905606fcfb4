using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts.Pools;

/// <summary>
/// The provisioning certificate pool (OPCP PCP): an OEM adds a vehicle's provisioning certificate with its sub-CAs;
/// it must chain to one of the OEM's registered OEM roots under ISO 15118 rules, and its PCID's WMI (first three
/// characters) must be one the root is registered for.
/// </summary>
public sealed class ProvisioningCertificatePool(
    IProvisioningCertificateStore store,
    IContractStore contracts,
    RootCertificatePool roots,
    ChainValidator validator,
    CertificateRevoker revoker,
    TimeProvider clock)
{
    public async Task<ProvisioningCertificate> AddAsync(string oemId, ProvisioningCertificateUpload upload, string actor, CancellationToken ct = default)
    {
        var leaf = CertificateFacts.Read(upload.Certificate, "provisioning certificate");
        var subCas = new List<(byte[] Der, X509Certificate Cert)>();
        if (upload.SubCa2Certificate is { Length: > 0 } s2) subCas.Add((s2, CertificateFacts.Read(s2, "OEM Sub-CA 2 certificate")));
        if (upload.SubCa1Certificate is { Length: > 0 } s1) subCas.Add((s1, CertificateFacts.Read(s1, "OEM Sub-CA 1 certificate")));
        var cn = CertificateFacts.CommonName(leaf);
        if (!Pcid.TryParse(cn, out var pcid, out var why))
            throw new ContractException(ContractError.ProfileViolation, $"The provisioning certificate's CN '{cn}' is not a PCID: {why}");

        var anchors = await roots.TrustedAsync(RootType.OEM, oemId, ct);
        if (anchors.Count == 0) throw new ContractException(ContractError.ChainInvalid, $"OEM '{oemId}' has no registered OEM root.");
        var result = validator.Validate(new ChainValidationRequest
        {
            Leaf = leaf, Intermediates = subCas.Select(s => s.Cert).ToList(), TrustAnchors = anchors.Select(a => a.Certificate).ToList(),
            At = clock.GetUtcNow(), Iso15118 = new Iso15118Rules(), RevocationMode = RevocationMode.IfAvailable,
        });
        if (!result.IsValid)
            throw new ContractException(ContractError.ChainInvalid, $"The provisioning certificate does not chain to a registered OEM root of '{oemId}': {result.Reason} ({result.Detail}).");
        var anchor = anchors.First(a => ReferenceEquals(a.Certificate, result.Path[^1]) || a.Certificate.Equals(result.Path[^1]));
        if (!anchor.Record.Wmis.Contains(pcid.Wmi))
            throw new ContractException(ContractError.WmiNotAllowed, $"WMI {pcid.Wmi} is not registered for OEM root {anchor.Record.CommonName} (registered: {string.Join(", ", anchor.Record.Wmis)}).");

        var existing = await store.GetProvisioningAsync(pcid.Value, ct);
        if (existing != null && existing.OemId != oemId) throw new ContractException(ContractError.NotOwner, $"PCID {pcid} belongs to another OEM.");

        var keyAlg = CertificateFacts.KeyAlgorithmOf(leaf);
        // Keep only the sub-CAs the path used, nearest first (Sub-CA 2, Sub-CA 1).
        var used = result.Path.Skip(1).Take(result.Path.Count - 2).Select(p => subCas.First(s => s.Cert.Equals(p)).Der).ToList();
        var vehicle = new ProvisioningCertificate
        {
            Pcid = pcid.Value, OemId = oemId, CertificateDer = upload.Certificate, SubCaDers = used, RootId = anchor.Record.Id,
            Standard = upload.Standard ?? (keyAlg == Pki.Keys.KeyAlgorithm.EcP256 ? IsoStandard.Iso15118_2 : IsoStandard.Iso15118_20),
            KeyAlgorithm = Pki.Keys.KeyAlgorithms.ProfileName(keyAlg), ValidTo = CertificateFacts.NotAfter(leaf), AddedAt = clock.GetUtcNow(),
        };
        await store.PutProvisioningAsync(vehicle, new AuditEvent(actor, existing == null ? "vehicle.add" : "vehicle.replace", pcid.Value, new Dictionary<string, string>
        {
            ["oem"] = oemId, ["fingerprint"] = CertificateFacts.Fingerprint(upload.Certificate), ["root"] = anchor.Record.Fingerprint,
        }), ct);
        return vehicle;
    }

    public async Task<ProvisioningCertificate> GetAsync(string? oemId, string pcid, CancellationToken ct = default)
    {
        var vehicle = await store.GetProvisioningAsync(NormalizePcid(pcid), ct) ?? throw new ContractException(ContractError.UnknownVehicle, $"No vehicle with PCID {pcid}.");
        if (oemId != null && vehicle.OemId != oemId) throw new ContractException(ContractError.NotOwner, $"PCID {pcid} belongs to another OEM.");
        return vehicle;
    }

    /// <summary>Whether the pool knows a PCID (OPCP lookupVehicle), with its contract summary.</summary>
    public async Task<VehicleLookup> LookupAsync(string pcid, CancellationToken ct = default)
    {
        var (vehicle, active) = await contracts.GetInstallationContextAsync(NormalizePcid(pcid), ct);
        return new VehicleLookup(NormalizePcid(pcid), vehicle != null, vehicle?.OemId, vehicle?.Status, active.Count, active.FirstOrDefault(c => c.IsDefault)?.Emaid);
    }

    /// <summary>Marks a vehicle's provisioning certificate revoked: installations for it answer FAILED_CertificateRevoked.</summary>
    public async Task RevokeAsync(string? oemId, string pcid, string actor, CancellationToken ct = default)
    {
        var vehicle = await GetAsync(oemId, pcid, ct);
        await store.SetProvisioningStatusAsync(vehicle.Pcid, ProvisioningStatus.Revoked, new AuditEvent(actor, "vehicle.revoke", vehicle.Pcid), ct);
    }

    /// <summary>Deletes a vehicle; its contracts end with it (certificates revoked, keys and signed data purged, OEM notified).</summary>
    public async Task DeleteAsync(string? oemId, string pcid, string actor, CancellationToken ct = default)
    {
        var vehicle = await GetAsync(oemId, pcid, ct);
        var now = clock.GetUtcNow();
        var active = (await contracts.ListForVehicleAsync(vehicle.Pcid, ct)).Where(c => c.State == ContractState.Active).ToList();
        var revocation = new ContractCertificateRevocation(revoker, contracts, actor);
        await revocation.RevokeAsync(active, ct);
        var events = active.Select(c => ContractWebhookPayloads.For(WebhookEvents.ContractDeleted, c, now)).ToList();
        var ended = await store.DeleteProvisioningAsync(vehicle.Pcid, now, "vehicle deleted", new AuditEvent(actor, "vehicle.delete", vehicle.Pcid, new Dictionary<string, string>
        {
            ["contractsTerminated"] = active.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }), events, ct);
        // The contracts this deletion ended, read again: their certificates include any committed meanwhile, also for a
        // contract bound after the list above.
        await revocation.RevokeAsync((await contracts.ListForVehicleAsync(vehicle.Pcid, ct)).Where(c => ended.Contains(c.Id)), ct);
    }

    internal static string NormalizePcid(string pcid) =>
        Pcid.TryParse(pcid, out var p, out var why) ? p.Value : throw new ContractException(ContractError.Malformed, why);
}
