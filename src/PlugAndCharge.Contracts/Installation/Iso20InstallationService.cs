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
/// ISO 15118-20 contract provisioning: CertificateInstallationReq → CertificateInstallationRes with one signed
/// SignedInstallationData per answer. A vehicle may hold several contracts: the hub orders the PCID's active -20
/// contracts (the vehicle's PrioritizedEMAIDs first, then the default, then by age), delivers one per request and
/// counts the rest in RemainingContractCertificateChains (capped by MaximumContractCertificateChains); follow-up
/// requests in the same V2G session get the next one.
/// The delivery follows the vehicle's key family: a P-521 provisioning key gets a P-521 contract key with ECDHCurve
/// SECP521; an Ed448 provisioning key (which signs the request) gets an Ed448 contract key with ECDHCurve X448, agreed
/// with the X448 form of the vehicle's key (<see cref="Ed448KeyAgreement"/>) ([V2G20-2487], [V2G20-2488]). A
/// provisioning certificate with an X448 key cannot sign the request and is refused. Every byte of the delivery is
/// checked against ISO 15118-20 7.9.2.5 in docs/iso15118-20.md.
/// </summary>
public sealed class Iso20InstallationService(
    IContractStore contracts,
    RootCertificatePool roots,
    ChainValidator validator,
    CpsSignerDirectory signers,
    ContractRegistry registry,
    ParsedCertificates parsed,
    TimeProvider clock,
    string actor = "cps")
{
    private static readonly TimeSpan SessionMemory = TimeSpan.FromMinutes(10);

    public async Task<InstallationOutcome> InstallAsync(byte[] exi, CancellationToken ct = default)
    {
        ExiElement message;
        try { message = ExiSchema.Iso20.Decode(exi); }
        catch (ExiDecodeException e) { return await FailAsync(new byte[8], null, new InstallationRefusal(InstallationResult.Malformed, "The request is not ISO 15118-20 EXI: " + e.Reason), null, ct); }

        var sessionId = InstallationSupport.SessionId(message.Element(Iso20Names.Header), Iso20Names.SessionId);
        CpsSigner? signer = null;
        string? pcid = null;
        try
        {
            if (message.Name != Iso20Names.InstallationReq) throw new InstallationRefusal(InstallationResult.Malformed, $"Expected CertificateInstallationReq, got {message.Name.LocalName}.");
            var rootIds = InstallationSupport.RootIds(message.Element(Iso20Names.ListOfRootCertificateIds), Iso20Names.RootCertificateId);
            signer = signers.Select(IsoStandard.Iso15118_20, rootIds);
            var chain = message.Element(Iso20Names.OemProvisioningCertificateChain) ?? throw new InstallationRefusal(InstallationResult.Malformed, "No OEMProvisioningCertificateChain.");
            var provisioningDer = InstallationSupport.CertificateBytes(chain.Element(Iso20Names.Certificate), "OEMProvisioningCertificateChain/Certificate");
            var provisioning = InstallationSupport.ReadCertificate(provisioningDer, "OEMProvisioningCertificateChain/Certificate", null);
            using var vehicleKey = new PresentedKey(provisioning);
            var presentedSubs = chain.Element(Iso20Names.SubCertificates)?.Elements().Select(e => InstallationSupport.ReadCertificate(e, "SubCertificates/Certificate", parsed)).ToList() ?? [];

            // 1. The vehicle's signature over its certificate chain: ECDSA on secp521r1 with SHA-512 or Ed448
            //    ([V2G20-2674], [V2G20-2673], [V2G20-2319]); its key is also the ECDH key [V2G20-2533], [V2G20-2534].
            var keyAlgorithm = CertificateFacts.KeyAlgorithmOf(provisioning);
            if (keyAlgorithm is not (KeyAlgorithm.EcP521 or KeyAlgorithm.Ed448))
                throw new InstallationRefusal(InstallationResult.Unsupported, $"Provisioning key {keyAlgorithm}: -20 delivers to secp521r1 (ECDHCurve SECP521) or Ed448 (X448) keys that sign their request.");
            InstallationSupport.VerifyRequestSignature(ExiSchema.Iso20, message, chain.Attribute("Id")?.Value.ToString(), vehicleKey);

            // 2. The vehicle in the pool and its chain.
            if (!Pcid.TryParse(CertificateFacts.CommonName(provisioning), out var parsedPcid, out var why))
                throw new InstallationRefusal(InstallationResult.CertChainError, "The provisioning certificate's CN is not a PCID: " + why);
            pcid = parsedPcid.Value;
            var (vehicle, active) = await contracts.GetInstallationContextAsync(pcid, ct);
            if (vehicle == null) throw new InstallationRefusal(InstallationResult.UnknownVehicle, $"PCID {pcid} is not in the provisioning certificate pool.");
            if (vehicle.Status == ProvisioningStatus.Revoked) throw new InstallationRefusal(InstallationResult.CertificateRevoked, $"The provisioning certificate of {pcid} is revoked.");
            var anchors = (await roots.TrustedAsync(RootType.OEM, vehicle.OemId, ct)).Select(r => r.Certificate).ToList();
            var poolSubCas = vehicle.SubCaDers.Select(d => parsed.Get(d, "OEM sub-CA")).ToList();
            var result = validator.Validate(new ChainValidationRequest
            {
                Leaf = provisioning, LeafVerifiedBy = InstallationSupport.PoolVerifiedIssuer(provisioningDer, vehicle, poolSubCas), Intermediates = [.. presentedSubs, .. poolSubCas],
                TrustAnchors = anchors, At = clock.GetUtcNow(), Iso15118 = new Iso15118Rules(), RevocationMode = RevocationMode.IfAvailable,
            });
            if (!result.IsValid) throw new InstallationRefusal(InstallationSupport.FromChainFailure(result.Reason), $"{result.Reason}: {result.Detail}");
            if (signer == null) throw new InstallationRefusal(InstallationResult.NoMatchingRoot, "No -20 CPS signer chains to a V2G root in ListOfRootCertificateIDs.");

            // 3. Which contract this answer carries, and how many remain.
            var ordered = Order(active.Where(c => c.Standard == IsoStandard.Iso15118_20).ToList(), message.Element(Iso20Names.PrioritizedEmaids));
            if (ordered.Count == 0)
                throw new InstallationRefusal((await contracts.ListForVehicleAsync(pcid, ct)).Any(c => c.State == ContractState.Terminated) ? InstallationResult.ContractCanceled : InstallationResult.NoContract,
                    $"No active ISO 15118-20 contract is bound to {pcid}.");
            var maximum = Math.Max(1, (int)(message.Element(Iso20Names.MaximumContractCertificateChains)?.Value.AsInt64() ?? 1));
            var deliverable = Math.Min(maximum, ordered.Count);
            var sessionKey = pcid + ":" + Convert.ToHexString(sessionId);
            // The cursor lives in the contract store: behind a load balancer the session's next request may reach another instance.
            var index = await contracts.GetInstallationCursorAsync(sessionKey, clock.GetUtcNow() - SessionMemory, ct) is { } next ? next % deliverable : 0;
            var contract = ordered[index];

            // 4. Its certificate and key (of the vehicle's key family), encrypted for the vehicle with AES-256-GCM
            //    ([V2G20-2493]: only encrypted; [V2G20-2497] / [V2G20-2500]; AAD from the request's PCID and this SKI [V2G20-2492]).
            var contractKey = ContractCertificateIssuer.ContractKeyFor(IsoStandard.Iso15118_20, keyAlgorithm);
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
            var response = await BuildAsync(sessionId, "OK", signer, updated.Certificate!, encrypted, remaining, ct);
            return new InstallationOutcome(response, InstallationResult.Ok, "OK", updated.Emaid, pcid, $"contract delivered, {remaining} remaining");
        }
        catch (InstallationRefusal r) { return await FailAsync(sessionId, signer, r, pcid, ct); }
        catch (Exception e) when (e is ContractException or Pki.PkiException or CryptographicException or System.Data.Common.DbException or TimeoutException or InvalidOperationException or FormatException)
        {
            return await FailAsync(sessionId, signer, new InstallationRefusal(InstallationResults.ForFailure(e), e.Message), pcid, ct);
        }
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

    private static List<Contract> Order(List<Contract> active, ExiElement? prioritized)
    {
        var wanted = prioritized?.Elements().Select(e => Emaid.TryParse(e.Text, IdentifierStrictness.Lenient, out var x, out _) ? x.Normalized : null).Where(x => x != null).ToList() ?? [];
        return active.OrderBy(c => { var i = wanted.IndexOf(c.Emaid); return i < 0 ? int.MaxValue : i; })
            .ThenBy(c => c.IsDefault ? 0 : 1).ThenBy(c => c.CreatedAt).ToList();
    }

    private async Task<byte[]> BuildAsync(byte[] sessionId, string code, CpsSigner? signer, ContractCertificate? certificate, EncryptedContractKey? key, int remaining, CancellationToken ct)
    {
        var header = new ExiElement(Iso20Names.Header);
        header.Add(new ExiElement(Iso20Names.SessionId, ExiValue.FromBytes(sessionId, hex: true)));
        header.Add(new ExiElement(Iso20Names.TimeStamp, ExiValue.FromInteger(clock.GetUtcNow().ToUnixTimeSeconds())));
        var res = new ExiElement(Iso20Names.InstallationRes);
        res.Add(header);
        res.Add(new ExiElement(Iso20Names.ResponseCode, ExiValue.FromString(code)));
        res.Add(new ExiElement(Iso20Names.EvseProcessing, ExiValue.FromString("Finished")));
        res.Add(Chain(Iso20Names.CpsCertificateChain, signer?.LeafDer ?? [0], signer?.SubCaDers ?? []));
        var data = new ExiElement(Iso20Names.SignedInstallationData).SetAttribute(Iso20Names.Id, "id1");
        // ContractCertificateChain requires SubCertificates; a failure fills the fixed-length fields with zeros.
        data.Add(Chain(Iso20Names.ContractCertificateChain, certificate?.Der ?? [0], certificate?.SubCaDers is { Count: > 0 } s ? s : [[0]]));
        var x448 = key?.EcdhCurve == "X448";
        // ECDHCurve names the curve of the agreement [V2G20-2487], [V2G20-2488]; DHPublicKey is 133 bytes for SECP521
        // and 57 for X448, never filled up to 133 ([V2G20-2489], NOTE 6/7, [V2G20-2495]).
        data.Add(new ExiElement(Iso20Names.EcdhCurve, ExiValue.FromString(x448 ? "X448" : "SECP521")));
        data.Add(new ExiElement(Iso20Names.DhPublicKey, ExiValue.FromBytes(key?.DhPublicKey ?? new byte[133])));
        data.Add(new ExiElement(x448 ? Iso20Names.X448EncryptedPrivateKey : Iso20Names.Secp521EncryptedPrivateKey, ExiValue.FromBytes(key?.EncryptedPrivateKey ?? new byte[94])));
        res.Add(data);
        res.Add(new ExiElement(Iso20Names.RemainingContractCertificateChains, ExiValue.FromInteger(Math.Clamp(remaining, 0, 255))));
        if (signer != null) await ExiResponseSigner.SignAsync(ExiSchema.Iso20, res, header, ["id1"], signer, ct);
        return ExiSchema.Iso20.Encode(res);
    }

    private static ExiElement Chain(QName name, byte[] leaf, IReadOnlyList<byte[]> subs)
    {
        var chain = new ExiElement(name);
        chain.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(leaf)));
        if (subs.Count > 0)
        {
            var s = new ExiElement(Iso20Names.SubCertificates);
            foreach (var sub in subs) s.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(sub)));
            chain.Add(s);
        }
        return chain;
    }

    private async Task<InstallationOutcome> FailAsync(byte[] sessionId, CpsSigner? signer, InstallationRefusal refusal, string? pcid, CancellationToken ct)
    {
        var code = refusal.Result.Iso20Code();
        signer ??= signers.Default(IsoStandard.Iso15118_20);
        byte[] response;
        try { response = await BuildAsync(sessionId, code, signer, null, null, 0, ct); }
        catch (Exception e) when (e is Pki.PkiException or CryptographicException or ExiEncodeException)
        {
            response = await BuildAsync(sessionId, code, null, null, null, 0, ct);
        }
        return new InstallationOutcome(response, refusal.Result, code, refusal.Emaid, pcid, refusal.Message);
    }
}
