using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>
/// Signed contract data outside a live V2G session: the CPS signs contract data made by an eMSP's own MO CA
/// (OPCP <c>PUT /v1/cps/contractData/signed</c>), and an OEM pulls a ready CertificateInstallationRes for over-the-air
/// installation (OPCP <c>GET /v1/ccp/provideSignedContractData/{emaid}/{pcid}</c>). ISO 15118-2 only. The steps are
/// the installation's (<see cref="InstallationPipeline"/>: chain validation, contract material, the -2 response
/// builder); its refusals become <see cref="ContractException"/>s here, answered as ProblemDetails.
/// </summary>
public sealed class ContractDataSigningService(
    IContractStore contracts,
    IProvisioningCertificateStore vehicles,
    CpsSignerDirectory signers,
    ContractRegistry registry,
    InstallationPipeline installation,
    TimeProvider clock)
{
    /// <summary>
    /// Verifies eMSP-made contract data (contract certificate chained to a registered MO root, CN = EMAID of the eMSP,
    /// key material of the -2 sizes), signs it as a CertificateInstallationRes and, when a PCID is given, stores it
    /// as that vehicle's contract.
    /// </summary>
    public async Task<SignedContractData> SignAsync(ContractOwner owner, EmspContractData data, string actor, CancellationToken ct = default)
    {
        if (data.Standard != IsoStandard.Iso15118_2) throw new ContractException(ContractError.Malformed, "Signing eMSP contract data is implemented for ISO 15118-2.");
        if (data.EncryptedPrivateKey.Length != 48) throw new ContractException(ContractError.Malformed, "contractSignatureEncryptedPrivateKey must be 48 bytes (IV ‖ CT) [V2G2-817].");
        if (data.DhPublicKey.Length != 65 || data.DhPublicKey[0] != 4) throw new ContractException(ContractError.Malformed, "dHpublickey must be an uncompressed P-256 point (65 bytes) [V2G2-819].");
        if (data.SubCaCertificates.Count is < 1 or > 2) throw new ContractException(ContractError.Malformed, "Give MO Sub-CA 2 then MO Sub-CA 1.");
        var leaf = CertificateFacts.Read(data.ContractCertificate, "contract certificate");
        var subs = data.SubCaCertificates.Select(d => CertificateFacts.Read(d, "MO sub-CA certificate")).ToList();
        if (!Emaid.TryParse(CertificateFacts.CommonName(leaf), IdentifierStrictness.Lenient, out var emaid, out var why))
            throw new ContractException(ContractError.ProfileViolation, "The contract certificate's CN is not an EMAID: " + why);
        if (data.Emaid != null && !Emaid.SameContract(data.Emaid, emaid.Normalized))
            throw new ContractException(ContractError.ProfileViolation, $"emaid {data.Emaid} is not the certificate's CN {emaid}.");
        if (!owner.ProviderPrefixes.Contains(emaid.ProviderPrefix, StringComparer.OrdinalIgnoreCase))
            throw new ContractException(ContractError.ProviderNotAllowed, $"EMAID prefix {emaid.ProviderPrefix} is not one of eMSP '{owner.EmspId}'.");
        if (CertificateFacts.KeyAlgorithmOf(leaf) != KeyAlgorithm.EcP256) throw new ContractException(ContractError.ProfileViolation, "An ISO 15118-2 contract key is P-256.");

        try { await installation.ValidateAsync(leaf, subs, RootType.MO, null, null, emaid.Normalized, ct); }
        catch (InstallationRefusal r) { throw new ContractException(ContractError.ChainInvalid, $"The contract certificate does not chain to a registered MO root: {r.Message}."); }

        var signer = PickSigner(data.CpsV2GRootFingerprint);
        var material = new Iso2ContractMaterial(data.ContractCertificate, data.SubCaCertificates, data.EncryptedPrivateKey, data.DhPublicKey, emaid.Normalized);
        var response = await Iso2ResponseBuilder.BuildAsync(false, new byte[8], "OK", signer, material, null, ct);
        var signed = new SignedContractData(emaid.Normalized, null, IsoStandard.Iso15118_2, response, signer.RootFingerprint, signer.Root.SubjectDN.ToString());
        if (data.Pcid == null) return signed;

        // Store it in the contract certificate pool as the vehicle's contract (OPCP: "if the PCID is set").
        var pcid = ProvisioningCertificatePool.NormalizePcid(data.Pcid);
        _ = await vehicles.GetProvisioningAsync(pcid, ct) ?? throw new ContractException(ContractError.UnknownVehicle, $"No vehicle with PCID {pcid}.");
        var now = clock.GetUtcNow();
        var certificate = new ContractCertificate
        {
            IssuerId = null, Serial = CertificateFacts.SerialHex(leaf), Der = data.ContractCertificate, SubCaDers = data.SubCaCertificates,
            NotBefore = CertificateFacts.NotBefore(leaf), NotAfter = CertificateFacts.NotAfter(leaf), KeyAlgorithm = KeyAlgorithm.EcP256,
            VehicleEncryptedKey = data.EncryptedPrivateKey, DhPublicKey = data.DhPublicKey,
        };
        var existing = (await contracts.FindByEmaidAsync(emaid.Normalized, ct)).FirstOrDefault(c => c.State == ContractState.Active);
        var audit = new AuditEvent(actor, "contract.signed-data", emaid.Normalized, new Dictionary<string, string> { ["pcid"] = pcid, ["emsp"] = owner.EmspId, ["cpsRoot"] = signer.RootFingerprint });
        if (existing != null)
        {
            if (existing.EmspId != owner.EmspId) throw new ContractException(ContractError.NotOwner, $"Contract {emaid} belongs to another eMSP.");
            if (existing.Pcid != pcid || existing.Origin != ContractOrigin.EmspSigned)
                throw new ContractException(ContractError.AlreadyExists, $"An active contract {emaid} exists for another vehicle or made by the hub.");
            var updated = existing with { Certificate = certificate, SignedData = response, UpdatedAt = now };
            await contracts.RecordCertificateAsync(existing.Id, certificate, response, now, audit,
                [ContractWebhookPayloads.For(WebhookEvents.ContractUpdated, updated, now, signer.RootFingerprint, CertificateFacts.CommonName(signer.Root))], ct: ct);
        }
        else
        {
            var hasDefault = (await contracts.ListForVehicleAsync(pcid, ct)).Any(c => c.State == ContractState.Active && c.IsDefault);
            var contract = new Contract
            {
                Id = Guid.NewGuid(), Emaid = emaid.Normalized, Pcid = pcid, EmspId = owner.EmspId, Standard = IsoStandard.Iso15118_2, Origin = ContractOrigin.EmspSigned,
                IsDefault = !hasDefault, Certificate = certificate, SignedData = response, CreatedAt = now, UpdatedAt = now,
            };
            await contracts.CreateContractAsync(contract, audit, [ContractWebhookPayloads.For(WebhookEvents.ContractCreated, contract, now, signer.RootFingerprint, CertificateFacts.CommonName(signer.Root))], ct);
        }
        return signed with { Pcid = pcid };
    }

    /// <summary>
    /// A ready, signed CertificateInstallationRes for an OEM to install over the air: hub-issued contracts get their
    /// key encrypted for the vehicle's provisioning key from the pool; eMSP-made ones return the stored signed data.
    /// </summary>
    public async Task<SignedContractData> ProvideAsync(string? oemId, string emaid, string pcid, string? cpsV2GRootFingerprint, string actor, CancellationToken ct = default)
    {
        var normalizedPcid = ProvisioningCertificatePool.NormalizePcid(pcid);
        var vehicle = await vehicles.GetProvisioningAsync(normalizedPcid, ct) ?? throw new ContractException(ContractError.UnknownVehicle, $"No vehicle with PCID {pcid}.");
        if (oemId != null && vehicle.OemId != oemId) throw new ContractException(ContractError.NotOwner, $"PCID {pcid} belongs to another OEM.");
        var contract = await registry.GetActiveAsync(null, emaid, ct);
        if (contract.Pcid != normalizedPcid) throw new ContractException(ContractError.UnknownContract, $"Contract {emaid} is not bound to {pcid}.");
        if (contract.Standard != IsoStandard.Iso15118_2) throw new ContractException(ContractError.Malformed, "Over-the-air contract data is implemented for ISO 15118-2.");
        if (contract.Origin == ContractOrigin.EmspSigned)
        {
            var stored = contract.SignedData ?? throw new ContractException(ContractError.UnknownContract, $"Contract {emaid} has no signed data.");
            var s = PickSigner(cpsV2GRootFingerprint);
            return new SignedContractData(contract.Emaid, contract.Pcid, contract.Standard, stored, s.RootFingerprint, s.Root.SubjectDN.ToString());
        }
        var signer = PickSigner(cpsV2GRootFingerprint);
        using var provisioning = new PresentedKey(CertificateFacts.Read(vehicle.CertificateDer, "provisioning certificate"));
        Iso2ContractMaterial material;
        try { material = await installation.Iso2MaterialAsync(contract, provisioning, forceNew: false, ct); }
        catch (InstallationRefusal r) { throw new ContractException(ContractError.ProfileViolation, r.Message); }
        var response = await Iso2ResponseBuilder.BuildAsync(false, new byte[8], "OK", signer, material, null, ct);
        return new SignedContractData(material.Emaid, contract.Pcid, contract.Standard, response, signer.RootFingerprint, signer.Root.SubjectDN.ToString());
    }

    private CpsSigner PickSigner(string? fingerprint) =>
        (fingerprint != null ? signers.ByRootFingerprint(IsoStandard.Iso15118_2, fingerprint) : signers.Default(IsoStandard.Iso15118_2))
        ?? throw new ContractException(ContractError.NoCpsSigner, fingerprint != null ? $"No CPS signer chains to the V2G root {fingerprint}." : "No ISO 15118-2 CPS signer is configured.");
}
