using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>
/// What the forwarding station passes next to a -20 request (OCPP 2.1 Get15118EVCertificateRequest
/// maximumContractCertificateChains and prioritizedEMAIDs, copied from the car's request). Neither is covered by the
/// car's signature, in the EXI or here; given, they stand in for the EXI's own values.
/// </summary>
public sealed record InstallationWishes(int? MaximumContractCertificateChains = null, IReadOnlyList<string>? PrioritizedEmaids = null);

/// <summary>
/// A car's contract request, EXI in and EXI out, for both ISO parts: ISO 15118-2 CertificateInstallationReq and
/// CertificateUpdateReq, ISO 15118-20 CertificateInstallationReq. One path: decode, verify the request signature, load
/// the vehicle and its contracts (an update: the contract and the certificate it is signed with), validate the chain,
/// the contract material (certificate issued or reused, key encrypted for the car), sign and respond
/// (<see cref="Iso2ResponseBuilder"/>, <see cref="Iso20ResponseBuilder"/>). Never throws for anything a vehicle or
/// charger sends: every outcome is a complete response with the part's ResponseCode, signed by a CPS leaf whenever one
/// exists (chargers crash on empty answers; ISO 15118-2 [V2G2-100]).
/// A -20 vehicle may hold several contracts: the PCID's active -20 contracts are ordered (PrioritizedEMAIDs first, then
/// the default, then by age), one is delivered per request and the rest are counted in RemainingContractCertificateChains
/// (capped by MaximumContractCertificateChains); follow-up requests in the same V2G session get the next one. The -20
/// delivery follows the vehicle's key family: P-521 gets a P-521 contract key (ECDHCurve SECP521), Ed448 an Ed448 key
/// agreed over X448 (<see cref="Ed448KeyAgreement"/>, [V2G20-2487], [V2G20-2488]); docs/iso15118-20.md checks every byte.
/// </summary>
public sealed class InstallationPipeline(
    IContractStore contracts,
    RootCertificatePool roots,
    ChainValidator validator,
    CpsSignerDirectory signers,
    ContractRegistry registry,
    ParsedCertificates parsed,
    TimeProvider clock,
    ContractOptions? options = null,
    string actor = "cps")
{
    private static readonly ContractOptions DefaultOptions = new();
    private static readonly TimeSpan SessionMemory = TimeSpan.FromMinutes(10);

    /// <summary>What a failure answer needs, filled in as the request goes through the steps.</summary>
    private sealed class Attempt(IsoStandard standard)
    {
        public IsoStandard Standard { get; } = standard;
        public bool Update { get; set; }
        public byte[] SessionId { get; set; } = new byte[8];
        public CpsSigner? Signer { get; set; }
        public string? Pcid { get; set; }
        public string? Emaid { get; set; }
    }

    /// <summary>
    /// Answers the request: for ISO 15118-2 a CertificateInstallationReq or CertificateUpdateReq, whichever the
    /// V2G_Message carries; for -20 a CertificateInstallationReq, with the station's <paramref name="wishes"/> if any.
    /// </summary>
    public async Task<InstallationOutcome> AnswerAsync(IsoStandard standard, byte[] exi, InstallationWishes? wishes = null, CancellationToken ct = default)
    {
        var attempt = new Attempt(standard);
        try
        {
            var message = Decode(attempt, exi);
            if (standard == IsoStandard.Iso15118_2 && message.Element(Iso2Names.Body)?.Element(Iso2Names.UpdateReq) is { } update)
            {
                attempt.Update = true;
                return await UpdateAsync(attempt, message, update, ct);
            }
            return await InstallAsync(attempt, message, wishes, ct);
        }
        catch (Exception e) when (IsRefusal(e, out var result, out var emaid))
        {
            return await FailAsync(attempt, result, e.Message, emaid, ct);
        }
    }

    /// <summary>
    /// A signed FAILED answer, with the request's session id, to a request that is not processed at all (the station's
    /// update budget is spent, the database is out of reach): no vehicle, contract or key work, one CPS signature.
    /// A -2 request that cannot be read is answered as an update (only updates are throttled).
    /// </summary>
    public async Task<InstallationOutcome> RefuseAsync(IsoStandard standard, byte[] exi, InstallationResult result, string detail, CancellationToken ct = default)
    {
        var attempt = new Attempt(standard) { Update = standard == IsoStandard.Iso15118_2 };
        try
        {
            var message = Decode(attempt, exi);
            attempt.Update = standard == IsoStandard.Iso15118_2 && message.Element(Iso2Names.Body)?.Element(Iso2Names.InstallationReq) == null;
        }
        catch (InstallationRefusal) { }
        return await FailAsync(attempt, result, detail, null, ct);
    }

    // ---- 1. decode ----

    private static ExiElement Decode(Attempt attempt, byte[] exi)
    {
        var schema = SchemaOf(attempt.Standard);
        ExiElement message;
        try { message = schema.Decode(exi); }
        catch (ExiDecodeException e) { throw new InstallationRefusal(InstallationResult.Malformed, $"The request is not {Name(attempt.Standard)} EXI: {e.Reason}"); }
        attempt.SessionId = attempt.Standard == IsoStandard.Iso15118_2
            ? InstallationSupport.SessionId(message.Element(Iso2Names.Header), Iso2Names.SessionId)
            : InstallationSupport.SessionId(message.Element(Iso20Names.Header), Iso20Names.SessionId);
        return message;
    }

    /// <summary>What an installation request carries, read from either part's message.</summary>
    private sealed record CarRequest(
        byte[] ProvisioningDer,
        string What,
        IReadOnlyList<X509Certificate> PresentedSubCas,
        string? SignedId,
        int MaximumContractChains,
        IReadOnlyList<string> PrioritizedEmaids);

    /// <summary>Reads the request, choosing the CPS signer from its root list first: even a refusal of the rest is signed by a leaf the car trusts.</summary>
    private CarRequest ReadInstallation(Attempt attempt, ExiElement message, InstallationWishes? wishes)
    {
        if (attempt.Standard == IsoStandard.Iso15118_2)
        {
            var req = message.Element(Iso2Names.Body)?.Element(Iso2Names.InstallationReq)
                ?? throw new InstallationRefusal(InstallationResult.Malformed, "The V2G_Message carries no CertificateInstallationReq.");
            var iso2RootIds = InstallationSupport.RootIds(req.Element(Iso2Names.ListOfRootCertificateIds), Iso2Names.RootCertificateId);
            attempt.Signer = signers.Select(IsoStandard.Iso15118_2, iso2RootIds);
            return new CarRequest(InstallationSupport.CertificateBytes(req.Element(Iso2Names.OemProvisioningCert), "OEMProvisioningCert"), "OEMProvisioningCert", [],
                req.Attribute("Id")?.Value.ToString(), 1, []);
        }
        if (message.Name != Iso20Names.InstallationReq) throw new InstallationRefusal(InstallationResult.Malformed, $"Expected CertificateInstallationReq, got {message.Name.LocalName}.");
        var rootIds = InstallationSupport.RootIds(message.Element(Iso20Names.ListOfRootCertificateIds), Iso20Names.RootCertificateId);
        attempt.Signer = signers.Select(IsoStandard.Iso15118_20, rootIds);
        var chain = message.Element(Iso20Names.OemProvisioningCertificateChain) ?? throw new InstallationRefusal(InstallationResult.Malformed, "No OEMProvisioningCertificateChain.");
        var der = InstallationSupport.CertificateBytes(chain.Element(Iso20Names.Certificate), "OEMProvisioningCertificateChain/Certificate");
        var subs = chain.Element(Iso20Names.SubCertificates)?.Elements().Select(e => InstallationSupport.ReadCertificate(e, "SubCertificates/Certificate", parsed)).ToList() ?? [];
        var maximum = wishes?.MaximumContractCertificateChains ?? (int)(message.Element(Iso20Names.MaximumContractCertificateChains)?.Value.AsInt64() ?? 1);
        var prioritized = wishes?.PrioritizedEmaids ?? message.Element(Iso20Names.PrioritizedEmaids)?.Elements().Select(e => e.Text ?? "").ToList() ?? [];
        return new CarRequest(der, "OEMProvisioningCertificateChain/Certificate", subs, chain.Attribute("Id")?.Value.ToString(), Math.Max(1, maximum), prioritized);
    }

    // ---- installation: both parts ----

    private async Task<InstallationOutcome> InstallAsync(Attempt attempt, ExiElement message, InstallationWishes? wishes, CancellationToken ct)
    {
        var request = ReadInstallation(attempt, message, wishes);
        var provisioning = InstallationSupport.ReadCertificate(request.ProvisioningDer, request.What, null);
        using var vehicleKey = new PresentedKey(provisioning);

        // 2. The vehicle's signature over its request with its provisioning key. -20: ECDSA on secp521r1 with SHA-512 or
        //    Ed448 ([V2G20-2674], [V2G20-2673], [V2G20-2319]), the key that is also the ECDH key [V2G20-2533], [V2G20-2534].
        var keyAlgorithm = CertificateFacts.KeyAlgorithmOf(provisioning);
        if (attempt.Standard == IsoStandard.Iso15118_20 && keyAlgorithm is not (KeyAlgorithm.EcP521 or KeyAlgorithm.Ed448))
            throw new InstallationRefusal(InstallationResult.Unsupported, $"Provisioning key {keyAlgorithm}: -20 delivers to secp521r1 (ECDHCurve SECP521) or Ed448 (X448) keys that sign their request.");
        InstallationSupport.VerifyRequestSignature(SchemaOf(attempt.Standard), message, request.SignedId, vehicleKey);

        // 3. The vehicle in the pool, its status and its active contracts, in one read.
        if (!Pcid.TryParse(CertificateFacts.CommonName(provisioning), out var parsedPcid, out var why))
            throw new InstallationRefusal(InstallationResult.CertChainError, "The provisioning certificate's CN is not a PCID: " + why);
        var pcid = attempt.Pcid = parsedPcid.Value;
        var (vehicle, active) = await contracts.GetInstallationContextAsync(pcid, ct);
        if (vehicle == null) throw new InstallationRefusal(InstallationResult.UnknownVehicle, $"PCID {pcid} is not in the provisioning certificate pool.");
        if (vehicle.Status == ProvisioningStatus.Revoked) throw new InstallationRefusal(InstallationResult.CertificateRevoked, $"The provisioning certificate of {pcid} is revoked.");

        // 4. Its chain to the OEM root, and a CPS signer the vehicle trusts.
        var poolSubCas = vehicle.SubCaDers.Select(d => parsed.Get(d, "OEM sub-CA")).ToList();
        await ValidateAsync(provisioning, [.. request.PresentedSubCas, .. poolSubCas], RootType.OEM, vehicle.OemId,
            InstallationSupport.PoolVerifiedIssuer(request.ProvisioningDer, vehicle, poolSubCas), null, ct);
        var signer = attempt.Signer ?? throw new InstallationRefusal(InstallationResult.NoMatchingRoot, "No CPS signer chains to a V2G root in ListOfRootCertificateIDs.");

        // 5. The contract, its material, the signed answer.
        var ofPart = active.Where(c => c.Standard == attempt.Standard).ToList();
        if (attempt.Standard == IsoStandard.Iso15118_2)
        {
            var contract = ofPart.FirstOrDefault(c => c.IsDefault) ?? ofPart.FirstOrDefault() ?? throw await NoContractAsync(pcid, attempt.Standard, ct);
            var material = await Iso2MaterialAsync(contract, vehicleKey, forceNew: false, ct);
            var response = await Iso2ResponseBuilder.BuildAsync(false, attempt.SessionId, "OK", signer, material, null, ct);
            return new InstallationOutcome(response, InstallationResult.Ok, "OK", contract.Emaid, pcid, "contract delivered");
        }
        return await DeliverIso20Async(attempt, signer, pcid, ofPart, request, provisioning, vehicleKey, keyAlgorithm, ct);
    }

    /// <summary>Why there is no contract to deliver: the vehicle's contracts were terminated, or it never had one.</summary>
    private async Task<InstallationRefusal> NoContractAsync(string pcid, IsoStandard standard, CancellationToken ct) =>
        (await contracts.ListForVehicleAsync(pcid, ct)).Any(c => c.State == ContractState.Terminated)
            ? new InstallationRefusal(InstallationResult.ContractCanceled, $"The contracts of {pcid} were terminated.")
            : new InstallationRefusal(InstallationResult.NoContract, $"No active {Name(standard)} contract is bound to {pcid}.");

    /// <summary>
    /// -20: which of the vehicle's contracts this answer carries and how many remain, its certificate and key of the
    /// vehicle's key family, encrypted with AES-256-GCM ([V2G20-2493]: only encrypted; [V2G20-2497] / [V2G20-2500];
    /// AAD from the request's PCID and the certificate's SKI [V2G20-2492]).
    /// </summary>
    private async Task<InstallationOutcome> DeliverIso20Async(Attempt attempt, CpsSigner signer, string pcid, List<Contract> active, CarRequest request,
        X509Certificate provisioning, PresentedKey vehicleKey, KeyAlgorithm vehicleKeyAlgorithm, CancellationToken ct)
    {
        var ordered = Order(active, request.PrioritizedEmaids);
        if (ordered.Count == 0) throw await NoContractAsync(pcid, attempt.Standard, ct);
        var deliverable = Math.Min(request.MaximumContractChains, ordered.Count);
        var sessionKey = pcid + ":" + Convert.ToHexString(attempt.SessionId);
        // The cursor lives in the contract store: behind a load balancer the session's next request may reach another instance.
        var index = await contracts.GetInstallationCursorAsync(sessionKey, clock.GetUtcNow() - SessionMemory, ct) is { } next ? next % deliverable : 0;
        var contract = ordered[index];

        var contractKey = ContractCertificateIssuer.ContractKeyFor(IsoStandard.Iso15118_20, vehicleKeyAlgorithm);
        var (updated, privateKey) = await registry.EnsureCertificateAsync(contract, actor, forceNew: false, contractKey, ct);
        EncryptedContractKey encrypted;
        try
        {
            // Not through the shared cache: a new contract certificate does not recur.
            var ski = CertificateFacts.SubjectKeyIdentifier(CertificateFacts.Read(updated.Certificate!.Der, "contract certificate"));
            encrypted = contractKey == KeyAlgorithm.Ed448 ? EncryptX448(privateKey, provisioning, pcid, ski)
                : ContractKeyEncryption.EncryptIso20Secp521(privateKey, InstallationSupport.KeyAgreementKey(vehicleKey), pcid, ski);
        }
        finally { CryptographicOperations.ZeroMemory(privateKey); }
        var now = clock.GetUtcNow();
        await contracts.SetInstallationCursorAsync(sessionKey, index + 1, now, now - SessionMemory, ct);
        var remaining = deliverable - index - 1;
        var response = await Iso20ResponseBuilder.BuildAsync(attempt.SessionId, now, "OK", signer, new Iso20ContractMaterial(updated.Certificate!, encrypted), remaining, ct);
        return new InstallationOutcome(response, InstallationResult.Ok, "OK", updated.Emaid, pcid, $"contract delivered, {remaining} remaining", remaining);
    }

    private static List<Contract> Order(List<Contract> active, IReadOnlyList<string> prioritized)
    {
        var wanted = prioritized.Select(e => Emaid.TryParse(e, IdentifierStrictness.Lenient, out var x, out _) ? x.Normalized : null).Where(x => x != null).ToList();
        return active.OrderBy(c => { var i = wanted.IndexOf(c.Emaid); return i < 0 ? int.MaxValue : i; })
            .ThenBy(c => c.IsDefault ? 0 : 1).ThenBy(c => c.CreatedAt).ToList();
    }

    /// <summary>X448 delivery: the Ed448 contract key's 56-byte secret scalar, for the X448 form of the vehicle's Ed448 key.</summary>
    private static EncryptedContractKey EncryptX448(byte[] ed448PrivateKey, X509Certificate provisioning, string pcid, byte[] ski)
    {
        byte[] vehicleKey;
        try { vehicleKey = Ed448KeyAgreement.X448PublicKey(((Ed448PublicKeyParameters)provisioning.GetPublicKey()).GetEncoded()); }
        catch (CryptographicException e) { throw new InstallationRefusal(InstallationResult.Unsupported, "The vehicle's Ed448 key has no usable X448 form: " + e.Message); }
        var scalar = Ed448KeyAgreement.SecretScalar(ed448PrivateKey);
        try { return ContractKeyEncryption.EncryptIso20X448(scalar, vehicleKey, pcid, ski); }
        finally { CryptographicOperations.ZeroMemory(scalar); }
    }

    // ---- ISO 15118-2 update ----

    private async Task<InstallationOutcome> UpdateAsync(Attempt attempt, ExiElement message, ExiElement req, CancellationToken ct)
    {
        attempt.Signer = signers.Select(IsoStandard.Iso15118_2, InstallationSupport.RootIds(req.Element(Iso2Names.ListOfRootCertificateIds), Iso2Names.RootCertificateId));
        var chain = req.Element(Iso2Names.ContractSignatureCertChain) ?? throw new InstallationRefusal(InstallationResult.Malformed, "No ContractSignatureCertChain.");
        var oldDer = InstallationSupport.CertificateBytes(chain.Element(Iso2Names.Certificate), "ContractSignatureCertChain/Certificate");
        var old = InstallationSupport.ReadCertificate(oldDer, "ContractSignatureCertChain/Certificate", null);
        using var oldKey = new PresentedKey(old);
        var oldSubs = chain.Element(Iso2Names.SubCertificates)?.Elements().Select(e => InstallationSupport.ReadCertificate(e, "SubCertificates/Certificate", parsed)).ToList() ?? [];
        var emaidText = attempt.Emaid = req.Element(Iso2Names.Emaid)?.Text;

        // 2. Signed with the installed contract key (ISO 15118-2 CertificateUpdateReq: the car signs it with the key of its installed contract certificate).
        InstallationSupport.VerifyRequestSignature(ExiSchema.Iso2, message, req.Attribute("Id")?.Value.ToString(), oldKey);
        if (!Emaid.TryParse(emaidText, IdentifierStrictness.Lenient, out var emaid, out var why))
            throw new InstallationRefusal(InstallationResult.Malformed, "eMAID: " + why);
        if (!Emaid.SameContract(CertificateFacts.CommonName(old) ?? "", emaid.Normalized))
            throw new InstallationRefusal(InstallationResult.CertChainError, "The contract certificate's CN is not the request's eMAID.", emaid.Normalized);

        // 3. The contract, and the certificate the request is signed with.
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

        // 4. Its chain and status, and a CPS signer the vehicle trusts.
        await ValidateAsync(old, oldSubs, RootType.MO, null, null, null, ct);
        if (await registry.CertificateStatus.IsRevokedAsync(installed.IssuerId, installed.Serial, ct: ct))
            throw new InstallationRefusal(InstallationResult.CertificateRevoked, "The installed contract certificate is revoked.", emaid.Normalized);
        var signer = attempt.Signer ?? throw new InstallationRefusal(InstallationResult.NoMatchingRoot, "No CPS signer chains to a V2G root in ListOfRootCertificateIDs.", emaid.Normalized);

        // 5. A renewed certificate, its key encrypted with the installed contract key as ECDH partner.
        var material = await Iso2MaterialAsync(contract, oldKey, forceNew: true, ct);
        var response = await Iso2ResponseBuilder.BuildAsync(true, attempt.SessionId, "OK", signer, material, null, ct);
        return new InstallationOutcome(response, InstallationResult.Ok, "OK", contract.Emaid, contract.Pcid, "contract renewed");
    }

    // ---- steps CPS signing shares ----

    /// <summary>
    /// The -2 contract material for <paramref name="partner"/>: the contract's certificate (issued or reused; renewed with
    /// <paramref name="forceNew"/>) and its key encrypted for the partner's P-256 key; an eMSP-made contract's stored data.
    /// </summary>
    internal async Task<Iso2ContractMaterial> Iso2MaterialAsync(Contract contract, PresentedKey partner, bool forceNew, CancellationToken ct)
    {
        if (contract.Origin == ContractOrigin.EmspSigned)
        {
            // The eMSP encrypted the key for this vehicle itself; an update would need the eMSP to renew.
            var cert = contract.Certificate ?? throw new InstallationRefusal(InstallationResult.NoContract, $"Contract {contract.Emaid} has no contract data.", contract.Emaid);
            if (forceNew) throw new InstallationRefusal(InstallationResult.NoContract, $"Contract {contract.Emaid} is renewed by its eMSP, not by the hub.", contract.Emaid);
            return new Iso2ContractMaterial(cert.Der, cert.SubCaDers, cert.VehicleEncryptedKey!, cert.DhPublicKey!, contract.Emaid);
        }
        var (updated, scalar) = await registry.EnsureCertificateAsync(contract, actor, forceNew, KeyAlgorithm.EcP256, ct);
        try
        {
            var vehicleKey = InstallationSupport.Iso2AgreementKey(partner);
            var encrypted = ContractKeyEncryption.EncryptIso2(scalar, vehicleKey);
            var c = updated.Certificate!;
            return new Iso2ContractMaterial(c.Der, c.SubCaDers, encrypted.EncryptedPrivateKey, encrypted.DhPublicKey, updated.Emaid);
        }
        finally { CryptographicOperations.ZeroMemory(scalar); }
    }

    /// <summary>
    /// The chain of <paramref name="leaf"/> to a registered root of <paramref name="type"/> under ISO 15118 rules; a
    /// contract certificate (MO) may also chain to a V2G root (ISO 15118-2 Annex F; docs/domain.md §2).
    /// </summary>
    internal async Task ValidateAsync(X509Certificate leaf, IReadOnlyList<X509Certificate> intermediates, RootType type, string? owner, X509Certificate? leafVerifiedBy,
        string? expectedEmaid, CancellationToken ct)
    {
        var anchors = (await roots.TrustedAsync(type, owner, ct)).Select(r => r.Certificate).ToList();
        if (type == RootType.MO) anchors.AddRange((await roots.TrustedAsync(RootType.V2G, null, ct)).Select(r => r.Certificate));
        if (anchors.Count == 0) throw new InstallationRefusal(InstallationResult.CertChainError, $"No {type} root is registered.");
        var result = validator.Validate(new ChainValidationRequest
        {
            Leaf = leaf, LeafVerifiedBy = leafVerifiedBy, Intermediates = intermediates, TrustAnchors = anchors, At = clock.GetUtcNow(),
            Iso15118 = new Iso15118Rules { ExpectedEmaid = expectedEmaid }, RevocationMode = RevocationMode.IfAvailable,
        });
        if (!result.IsValid) throw new InstallationRefusal(InstallationSupport.FromChainFailure(result.Reason), $"{result.Reason}: {result.Detail}");
    }

    // ---- failures ----

    /// <summary>
    /// The one exception filter: an early exit (<see cref="InstallationRefusal"/>) keeps its result; a failure of the
    /// request's content or of our side (contract, PKI, crypto, EXI, database, timeout) becomes
    /// <see cref="InstallationResults.ForFailure"/>. Cancellation and programming errors pass.
    /// </summary>
    private static bool IsRefusal(Exception e, out InstallationResult result, out string? emaid)
    {
        result = e is InstallationRefusal r ? r.Result : InstallationResults.ForFailure(e);
        emaid = (e as InstallationRefusal)?.Emaid;
        return e is InstallationRefusal or ContractException or Pki.PkiException or CryptographicException or ExiDecodeException or ExiEncodeException
            or System.Data.Common.DbException or TimeoutException or InvalidOperationException or FormatException;
    }

    private async Task<InstallationOutcome> FailAsync(Attempt attempt, InstallationResult result, string detail, string? emaid, CancellationToken ct)
    {
        var code = attempt.Standard == IsoStandard.Iso15118_2 ? result.Iso2Code() : result.Iso20Code();
        var signer = attempt.Signer ?? signers.Default(attempt.Standard);
        byte[] response;
        try { response = await FailureResponseAsync(attempt, code, result, signer, ct); }
        catch (Exception e) when (e is Pki.PkiException or CryptographicException or ExiEncodeException)
        {
            // The signer itself failed (HSM down): still answer, unsigned.
            response = await FailureResponseAsync(attempt, code, result, null, ct);
        }
        return new InstallationOutcome(response, result, code, emaid ?? attempt.Emaid, attempt.Pcid, detail);
    }

    private Task<byte[]> FailureResponseAsync(Attempt attempt, string code, InstallationResult result, CpsSigner? signer, CancellationToken ct) =>
        attempt.Standard == IsoStandard.Iso15118_2
            // An UpdateRes of a failure on our side carries RetryCounter 1: the car may ask again.
            ? Iso2ResponseBuilder.BuildAsync(attempt.Update, attempt.SessionId, code, signer, null, result.MayRetry() ? (short)1 : null, ct)
            : Iso20ResponseBuilder.BuildAsync(attempt.SessionId, clock.GetUtcNow(), code, signer, null, 0, ct);

    private static ExiSchema SchemaOf(IsoStandard standard) => standard == IsoStandard.Iso15118_2 ? ExiSchema.Iso2 : ExiSchema.Iso20;

    private static string Name(IsoStandard standard) => standard == IsoStandard.Iso15118_2 ? "ISO 15118-2" : "ISO 15118-20";
}
