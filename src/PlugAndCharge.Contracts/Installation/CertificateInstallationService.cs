using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>
/// ISO 15118-2 contract provisioning: CertificateInstallationReq → CertificateInstallationRes and
/// CertificateUpdateReq → CertificateUpdateRes, EXI in and EXI out. Never throws for anything a vehicle or charger
/// sends: every outcome is a complete response with the ISO ResponseCode, signed by a CPS leaf whenever one exists.
/// </summary>
public sealed class CertificateInstallationService(
    IContractStore contracts,
    RootCertificatePool roots,
    ChainValidator validator,
    CpsSignerDirectory signers,
    ContractRegistry registry,
    ICertificateStore issuedCertificates,
    ParsedCertificates parsed,
    TimeProvider clock,
    ContractOptions? options = null,
    string actor = "cps")
{
    private static readonly ContractOptions DefaultOptions = new();

    /// <summary>Answers a CertificateInstallationReq or CertificateUpdateReq, whichever the V2G_Message carries.</summary>
    public async Task<InstallationOutcome> HandleAsync(byte[] exi, CancellationToken ct = default)
    {
        ExiElement message;
        try { message = ExiSchema.Iso2.Decode(exi); }
        catch (ExiDecodeException e) { return await FailAsync(false, new byte[8], null, new InstallationRefusal(InstallationResult.Malformed, "The request is not ISO 15118-2 EXI: " + e.Reason), ct); }
        var update = message.Element(Iso2Names.Body)?.Element(Iso2Names.UpdateReq) != null;
        return update ? await UpdateAsync(message, ct) : await InstallAsync(message, ct);
    }

    public async Task<InstallationOutcome> InstallAsync(byte[] exi, CancellationToken ct = default)
    {
        ExiElement message;
        try { message = ExiSchema.Iso2.Decode(exi); }
        catch (ExiDecodeException e) { return await FailAsync(false, new byte[8], null, new InstallationRefusal(InstallationResult.Malformed, "The request is not ISO 15118-2 EXI: " + e.Reason), ct); }
        return await InstallAsync(message, ct);
    }

    public async Task<InstallationOutcome> UpdateAsync(byte[] exi, CancellationToken ct = default)
    {
        ExiElement message;
        try { message = ExiSchema.Iso2.Decode(exi); }
        catch (ExiDecodeException e) { return await FailAsync(true, new byte[8], null, new InstallationRefusal(InstallationResult.Malformed, "The request is not ISO 15118-2 EXI: " + e.Reason), ct); }
        return await UpdateAsync(message, ct);
    }

    /// <summary>
    /// A signed FAILED answer, with the request's session id, to a request that is not processed at all (the station's
    /// update budget is spent): no vehicle, contract or key work, one CPS signature.
    /// </summary>
    public async Task<InstallationOutcome> RefuseAsync(byte[] exi, InstallationResult result, string detail, CancellationToken ct = default)
    {
        ExiElement message;
        try { message = ExiSchema.Iso2.Decode(exi); }
        catch (ExiDecodeException) { return await FailAsync(true, new byte[8], null, new InstallationRefusal(result, detail), ct); }
        var update = message.Element(Iso2Names.Body)?.Element(Iso2Names.InstallationReq) == null;
        var sessionId = InstallationSupport.SessionId(message.Element(Iso2Names.Header), Iso2Names.SessionId);
        return await FailAsync(update, sessionId, null, new InstallationRefusal(result, detail), ct);
    }

    private async Task<InstallationOutcome> InstallAsync(ExiElement message, CancellationToken ct)
    {
        var sessionId = InstallationSupport.SessionId(message.Element(Iso2Names.Header), Iso2Names.SessionId);
        CpsSigner? signer = null;
        string? pcid = null;
        try
        {
            var req = message.Element(Iso2Names.Body)?.Element(Iso2Names.InstallationReq)
                ?? throw new InstallationRefusal(InstallationResult.Malformed, "The V2G_Message carries no CertificateInstallationReq.");
            var rootIds = InstallationSupport.RootIds(req.Element(Iso2Names.ListOfRootCertificateIds), Iso2Names.RootCertificateId);
            signer = signers.Select(IsoStandard.Iso15118_2, rootIds);

            // 1. The vehicle's signature over the request, with its provisioning certificate.
            var provisioningDer = InstallationSupport.CertificateBytes(req.Element(Iso2Names.OemProvisioningCert), "OEMProvisioningCert");
            var provisioning = InstallationSupport.ReadCertificate(provisioningDer, "OEMProvisioningCert", null);
            using var vehicleKey = new PresentedKey(provisioning);
            InstallationSupport.VerifyRequestSignature(ExiSchema.Iso2, message, req.Attribute("Id")?.Value.ToString(), vehicleKey);

            // 2. The vehicle in the pool, its status and its chain to the OEM root.
            if (!Pcid.TryParse(CertificateFacts.CommonName(provisioning), out var parsedPcid, out var why))
                throw new InstallationRefusal(InstallationResult.CertChainError, "The provisioning certificate's CN is not a PCID: " + why);
            pcid = parsedPcid.Value;
            var (vehicle, active) = await contracts.GetInstallationContextAsync(pcid, ct);
            if (vehicle == null) throw new InstallationRefusal(InstallationResult.UnknownVehicle, $"PCID {pcid} is not in the provisioning certificate pool.");
            if (vehicle.Status == ProvisioningStatus.Revoked) throw new InstallationRefusal(InstallationResult.CertificateRevoked, $"The provisioning certificate of {pcid} is revoked.");
            var poolSubCas = vehicle.SubCaDers.Select(d => parsed.Get(d, "OEM sub-CA")).ToList();
            await ValidateAsync(provisioning, poolSubCas, RootType.OEM, vehicle.OemId, InstallationSupport.PoolVerifiedIssuer(provisioningDer, vehicle, poolSubCas), ct);

            // 3. A CPS signer the vehicle trusts.
            if (signer == null) throw new InstallationRefusal(InstallationResult.NoMatchingRoot, "No CPS signer chains to a V2G root in ListOfRootCertificateIDs.");

            // 4. The default contract, its certificate (issued or reused) and its key encrypted for the vehicle.
            var contract = await DefaultContractAsync(pcid, active, ct);
            var material = await MaterialAsync(contract, vehicleKey, forceNew: false, ct);
            var response = await Iso2ResponseBuilder.BuildAsync(false, sessionId, "OK", signer, material, null, ct);
            return new InstallationOutcome(response, InstallationResult.Ok, "OK", contract.Emaid, pcid, "contract delivered");
        }
        catch (InstallationRefusal r) { return await FailAsync(false, sessionId, signer, r, ct, pcid); }
        catch (Exception e) when (e is ContractException or Pki.PkiException or CryptographicException or System.Data.Common.DbException or TimeoutException)
        {
            return await FailAsync(false, sessionId, signer, new InstallationRefusal(InstallationResults.ForFailure(e), e.Message), ct, pcid);
        }
    }

    private async Task<InstallationOutcome> UpdateAsync(ExiElement message, CancellationToken ct)
    {
        var sessionId = InstallationSupport.SessionId(message.Element(Iso2Names.Header), Iso2Names.SessionId);
        CpsSigner? signer = null;
        string? emaidText = null;
        try
        {
            var req = message.Element(Iso2Names.Body)?.Element(Iso2Names.UpdateReq)
                ?? throw new InstallationRefusal(InstallationResult.Malformed, "The V2G_Message carries no CertificateUpdateReq.");
            var rootIds = InstallationSupport.RootIds(req.Element(Iso2Names.ListOfRootCertificateIds), Iso2Names.RootCertificateId);
            signer = signers.Select(IsoStandard.Iso15118_2, rootIds);
            var chain = req.Element(Iso2Names.ContractSignatureCertChain) ?? throw new InstallationRefusal(InstallationResult.Malformed, "No ContractSignatureCertChain.");
            var oldDer = InstallationSupport.CertificateBytes(chain.Element(Iso2Names.Certificate), "ContractSignatureCertChain/Certificate");
            var old = InstallationSupport.ReadCertificate(oldDer, "ContractSignatureCertChain/Certificate", null);
            using var oldKey = new PresentedKey(old);
            var oldSubs = chain.Element(Iso2Names.SubCertificates)?.Elements().Select(e => InstallationSupport.ReadCertificate(e, "SubCertificates/Certificate", parsed)).ToList() ?? [];
            emaidText = req.Element(Iso2Names.Emaid)?.Text;

            // 1. Signed with the installed contract key (ISO 15118-2 CertificateUpdateReq: the car signs it with the key of its installed contract certificate).
            InstallationSupport.VerifyRequestSignature(ExiSchema.Iso2, message, req.Attribute("Id")?.Value.ToString(), oldKey);
            if (!Emaid.TryParse(emaidText, IdentifierStrictness.Lenient, out var emaid, out var why))
                throw new InstallationRefusal(InstallationResult.Malformed, "eMAID: " + why);
            if (!Emaid.SameContract(CertificateFacts.CommonName(old) ?? "", emaid.Normalized))
                throw new InstallationRefusal(InstallationResult.CertChainError, "The contract certificate's CN is not the request's eMAID.", emaid.Normalized);

            // 2. The contract, and the installed certificate's chain and status.
            var all = await contracts.FindByEmaidAsync(emaid.Normalized, ct);
            if (all.Count == 0) throw new InstallationRefusal(InstallationResult.NoContract, $"No contract {emaid}.", emaid.Normalized);
            var contract = all[0];
            if (contract.State != ContractState.Active) throw new InstallationRefusal(InstallationResult.ContractCanceled, $"Contract {emaid} was terminated.", emaid.Normalized);
            // Identity before signature: the signing certificate must be one this service linked to this very contract,
            // current or superseded within the grace window. A CN equal to the eMAID proves nothing: any CA under a
            // trusted root (a station's certificate under the V2G root, another MO certificate) can carry it.
            var installed = await contracts.FindContractCertificateAsync(contract.Id, SHA256.HashData(oldDer), ct)
                ?? throw new InstallationRefusal(InstallationResult.CertChainError, $"The signing certificate was not issued for contract {emaid}.", emaid.Normalized);
            var grace = (options ?? DefaultOptions).SupersededCertificateGrace;
            if (installed.SupersededAt is { } superseded && clock.GetUtcNow() - superseded > grace)
                throw new InstallationRefusal(InstallationResult.CertChainError, $"The signing certificate of {emaid} was replaced at {superseded:O}, more than {grace} ago.", emaid.Normalized);
            await ValidateAsync(old, oldSubs, RootType.MO, null, null, ct);
            if (installed.IssuerId is { } issuerId
                && await issuedCertificates.GetAsync(issuerId, installed.Serial, ct) is { Status: CertificateStatus.Revoked })
                throw new InstallationRefusal(InstallationResult.CertificateRevoked, "The installed contract certificate is revoked.", emaid.Normalized);
            if (signer == null) throw new InstallationRefusal(InstallationResult.NoMatchingRoot, "No CPS signer chains to a V2G root in ListOfRootCertificateIDs.", emaid.Normalized);

            // 3. A renewed certificate, its key encrypted with the installed contract key as ECDH partner.
            var material = await MaterialAsync(contract, oldKey, forceNew: true, ct);
            var response = await Iso2ResponseBuilder.BuildAsync(true, sessionId, "OK", signer, material, null, ct);
            return new InstallationOutcome(response, InstallationResult.Ok, "OK", contract.Emaid, contract.Pcid, "contract renewed");
        }
        catch (InstallationRefusal r) { return await FailAsync(true, sessionId, signer, r, ct, null, r.Emaid ?? emaidText); }
        catch (Exception e) when (e is ContractException or Pki.PkiException or CryptographicException or System.Data.Common.DbException or TimeoutException)
        {
            return await FailAsync(true, sessionId, signer, new InstallationRefusal(InstallationResults.ForFailure(e), e.Message), ct, null, emaidText);
        }
    }

    private async Task<Contract> DefaultContractAsync(string pcid, IReadOnlyList<Contract> active, CancellationToken ct)
    {
        var iso2 = active.Where(c => c.Standard == IsoStandard.Iso15118_2).ToList();
        var contract = iso2.FirstOrDefault(c => c.IsDefault) ?? (iso2.Count > 0 ? iso2[0] : null);
        if (contract != null) return contract;
        // Rare path: tell "terminated" apart from "never had one".
        var history = await contracts.ListForVehicleAsync(pcid, ct);
        throw history.Any(c => c.State == ContractState.Terminated)
            ? new InstallationRefusal(InstallationResult.ContractCanceled, $"The contracts of {pcid} were terminated.")
            : new InstallationRefusal(InstallationResult.NoContract, $"No contract is bound to {pcid}.");
    }

    private async Task<Iso2ContractMaterial> MaterialAsync(Contract contract, PresentedKey partner, bool forceNew, CancellationToken ct)
    {
        if (contract.Origin == ContractOrigin.EmspSigned)
        {
            // The eMSP encrypted the key for this vehicle itself; an update would need the eMSP to renew.
            var cert = contract.Certificate ?? throw new InstallationRefusal(InstallationResult.NoContract, $"Contract {contract.Emaid} has no contract data.", contract.Emaid);
            if (forceNew) throw new InstallationRefusal(InstallationResult.NoContract, $"Contract {contract.Emaid} is renewed by its eMSP, not by the hub.", contract.Emaid);
            return new Iso2ContractMaterial(cert.Der, cert.SubCaDers, cert.VehicleEncryptedKey!, cert.DhPublicKey!, contract.Emaid);
        }
        var (updated, scalar) = await registry.EnsureCertificateAsync(contract, actor, forceNew, Pki.Keys.KeyAlgorithm.EcP256, ct);
        try
        {
            var vehicleKey = InstallationSupport.Iso2AgreementKey(partner);
            var encrypted = ContractKeyEncryption.EncryptIso2(scalar, vehicleKey);
            var c = updated.Certificate!;
            return new Iso2ContractMaterial(c.Der, c.SubCaDers, encrypted.EncryptedPrivateKey, encrypted.DhPublicKey, updated.Emaid);
        }
        finally { CryptographicOperations.ZeroMemory(scalar); }
    }

    private async Task ValidateAsync(X509Certificate leaf, IReadOnlyList<X509Certificate> intermediates, RootType type, string? owner, X509Certificate? leafVerifiedBy,
        CancellationToken ct)
    {
        var anchors = (await roots.TrustedAsync(type, owner, ct)).Select(r => r.Certificate).ToList();
        // MO sub-CAs may also hang under a V2G root (ISO 15118-2 Annex F; docs/domain.md §2).
        if (type == RootType.MO) anchors.AddRange((await roots.TrustedAsync(RootType.V2G, null, ct)).Select(r => r.Certificate));
        if (anchors.Count == 0) throw new InstallationRefusal(InstallationResult.CertChainError, $"No {type} root is registered.");
        var result = validator.Validate(new ChainValidationRequest
        {
            Leaf = leaf, LeafVerifiedBy = leafVerifiedBy, Intermediates = intermediates, TrustAnchors = anchors, At = clock.GetUtcNow(),
            Iso15118 = new Iso15118Rules(), RevocationMode = RevocationMode.IfAvailable,
        });
        if (!result.IsValid) throw new InstallationRefusal(InstallationSupport.FromChainFailure(result.Reason), $"{result.Reason}: {result.Detail}");
    }

    private async Task<InstallationOutcome> FailAsync(bool update, byte[] sessionId, CpsSigner? signer, InstallationRefusal refusal, CancellationToken ct, string? pcid = null, string? emaid = null)
    {
        var code = refusal.Result.Iso2Code();
        signer ??= signers.Default(IsoStandard.Iso15118_2);
        short? retry = refusal.Result.MayRetry() ? (short)1 : null;
        byte[] response;
        try { response = await Iso2ResponseBuilder.BuildAsync(update, sessionId, code, signer, null, retry, ct); }
        catch (Exception e) when (e is Pki.PkiException or CryptographicException or ExiEncodeException)
        {
            // The signer itself failed (HSM down): still answer, unsigned.
            response = await Iso2ResponseBuilder.BuildAsync(update, sessionId, code, null, null, retry, ct);
        }
        return new InstallationOutcome(response, refusal.Result, code, refusal.Emaid ?? emaid, pcid, refusal.Message);
    }
}
