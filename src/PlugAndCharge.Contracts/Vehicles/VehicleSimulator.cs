using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts.Vehicles;

/// <summary>A contract as a vehicle holds it after a successful installation or update.</summary>
public sealed class InstalledContract(string emaid, byte[] certificate, IReadOnlyList<byte[]> subCertificates, ECDsa key) : IDisposable
{
    public string Emaid { get; } = emaid;
    public byte[] Certificate { get; } = certificate;
    public IReadOnlyList<byte[]> SubCertificates { get; } = subCertificates;
    /// <summary>The decrypted contract key (it matched the certificate).</summary>
    public ECDsa Key { get; } = key;
    public void Dispose() => Key.Dispose();
}

/// <summary>Why the simulated vehicle refused a response.</summary>
public sealed class VehicleRejectedResponseException(string responseCode, string reason) : Exception($"{responseCode}: {reason}")
{
    public string ResponseCode { get; } = responseCode;
}

/// <summary>
/// Plays the car for demos and tests: holds an OEM provisioning key and chain and the V2G roots it trusts, builds and
/// signs CertificateInstallationReq / CertificateUpdateReq (ISO 15118-2) and the -20 CertificateInstallationReq, and
/// checks an answer the way a vehicle must: the CPS signature and its chain up to a trusted V2G root, every signed
/// reference, then decrypts the contract key and checks it belongs to the contract certificate.
/// </summary>
public sealed class VehicleSimulator : IDisposable
{
    private readonly ChainValidator _validator = new();

    public ECDsa ProvisioningKey { get; }
    public byte[] ProvisioningCertificate { get; }
    /// <summary>OEM Sub-CA 2 then Sub-CA 1.</summary>
    public IReadOnlyList<byte[]> ProvisioningSubCas { get; }
    public IReadOnlyList<X509Certificate> TrustedV2GRoots { get; }
    public string Pcid { get; }
    public IsoStandard Standard { get; }
    /// <summary>The V2G session the vehicle is in (the -20 hub hands out one contract per request within a session).</summary>
    public byte[] SessionId { get; set; } = RandomNumberGenerator.GetBytes(8);

    public VehicleSimulator(ECDsa provisioningKey, byte[] provisioningCertificate, IReadOnlyList<byte[]> subCas, IReadOnlyList<X509Certificate> trustedV2GRoots)
    {
        ProvisioningKey = provisioningKey; ProvisioningCertificate = provisioningCertificate; ProvisioningSubCas = subCas; TrustedV2GRoots = trustedV2GRoots;
        var cert = CertificateFacts.Read(provisioningCertificate, "provisioning certificate");
        Pcid = (CertificateFacts.CommonName(cert) ?? "").ToUpperInvariant();
        Standard = provisioningKey.KeySize == 256 ? IsoStandard.Iso15118_2 : IsoStandard.Iso15118_20;
    }

    /// <summary>A vehicle with a fresh provisioning key certified by one of our OEM Sub-CA 2s (development hierarchy).</summary>
    public static async Task<VehicleSimulator> CreateAsync(CertificateAuthorityServices ca, string oemSubCa2Id, string pcid, IReadOnlyList<X509Certificate> trustedV2GRoots, CancellationToken ct = default)
    {
        var sub = await ca.Authorities.GetAsync(oemSubCa2Id, ct);
        var standard = sub.Profile.Id[..sub.Profile.Id.IndexOf('/')];
        var key = ECDsa.Create(standard == "iso2" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP521);
        var issued = await ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = standard + "/oem-provisioning", IssuerId = oemSubCa2Id, PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = new X509Name($"CN={pcid},O=PlugAndCharge Vehicle,DC=OEM"), Actor = "vehicle-simulator",
        }, ct);
        var chain = issued.IssuerChain;
        return new VehicleSimulator(key, issued.Certificate.GetEncoded(), chain.Take(chain.Count - 1).Select(c => c.GetEncoded()).ToList(), trustedV2GRoots);
    }

    // ---- ISO 15118-2 ----

    public byte[] BuildInstallationRequest()
    {
        var req = new ExiElement(Iso2Names.InstallationReq).SetAttribute(Iso2Names.BodyId, "ID1");
        req.Add(new ExiElement(Iso2Names.OemProvisioningCert, ExiValue.FromBytes(ProvisioningCertificate)));
        req.Add(RootList(Iso2Names.ListOfRootCertificateIds, Iso2Names.RootCertificateId));
        return SignIso2(req, ProvisioningKey);
    }

    /// <summary>A CertificateUpdateReq for the installed contract, signed with its key.</summary>
    public byte[] BuildUpdateRequest(InstalledContract current)
    {
        var req = new ExiElement(Iso2Names.UpdateReq).SetAttribute(Iso2Names.BodyId, "ID1");
        var chain = new ExiElement(Iso2Names.ContractSignatureCertChain);
        chain.Add(new ExiElement(Iso2Names.Certificate, ExiValue.FromBytes(current.Certificate)));
        var subs = new ExiElement(Iso2Names.SubCertificates);
        foreach (var s in current.SubCertificates) subs.Add(new ExiElement(Iso2Names.Certificate, ExiValue.FromBytes(s)));
        chain.Add(subs);
        req.Add(chain);
        req.Add(new ExiElement(Iso2Names.Emaid, ExiValue.FromString(current.Emaid)));
        req.Add(RootList(Iso2Names.ListOfRootCertificateIds, Iso2Names.RootCertificateId));
        return SignIso2(req, current.Key);
    }

    /// <summary>
    /// Checks a CertificateInstallationRes (or, with <paramref name="replacing"/>, a CertificateUpdateRes whose key was
    /// encrypted for the replaced contract's key) and returns the new contract. Throws when a vehicle would refuse it.
    /// </summary>
    public InstalledContract AcceptIso2Response(byte[] exi, InstalledContract? replacing = null)
    {
        var message = ExiSchema.Iso2.Decode(exi);
        var body = message.Element(Iso2Names.Body)!;
        var res = body.Element(replacing == null ? Iso2Names.InstallationRes : Iso2Names.UpdateRes)
            ?? throw new VehicleRejectedResponseException("?", "The body is not the expected response.");
        var code = res.Element(Iso2Names.ResponseCode)!.Text;
        if (!code.StartsWith("OK", StringComparison.Ordinal)) throw new VehicleRejectedResponseException(code, "The hub refused.");
        CheckCpsSignature(ExiSchema.Iso2, message, res.Element(Iso2Names.SaProvisioningCertificateChain)!, Iso2Names.Certificate, Iso2Names.SubCertificates, ["#id1", "#id2", "#id3", "#id4"], code);

        var chain = res.Element(Iso2Names.ContractSignatureCertChain)!;
        var leaf = chain.Element(Iso2Names.Certificate)!.Value.AsBytes();
        var subs = chain.Element(Iso2Names.SubCertificates)?.Elements().Select(e => e.Value.AsBytes()).ToList() ?? [];
        var encrypted = res.Element(Iso2Names.ContractSignatureEncryptedPrivateKey)!.Value.AsBytes();
        var dh = res.Element(Iso2Names.DhPublicKey)!.Value.AsBytes();
        var emaid = res.Element(Iso2Names.Emaid)!.Text;

        using var ecdh = ECDiffieHellman.Create((replacing?.Key ?? ProvisioningKey).ExportParameters(true));
        var scalar = ContractKeyEncryption.DecryptIso2(encrypted, dh, ecdh);
        return new InstalledContract(emaid, leaf, subs, KeyMatching(scalar, leaf, ECCurve.NamedCurves.nistP256, code, emaid));
    }

    // ---- ISO 15118-20 ----

    public byte[] BuildIso20InstallationRequest(int maximumContractChains = 1, IReadOnlyList<string>? prioritizedEmaids = null)
    {
        var req = new ExiElement(Iso20Names.InstallationReq);
        var header = new ExiElement(Iso20Names.Header);
        header.Add(new ExiElement(Iso20Names.SessionId, ExiValue.FromBytes(SessionId, hex: true)));
        header.Add(new ExiElement(Iso20Names.TimeStamp, ExiValue.FromInteger(DateTimeOffset.UtcNow.ToUnixTimeSeconds())));
        req.Add(header);
        var chain = new ExiElement(Iso20Names.OemProvisioningCertificateChain).SetAttribute(Iso20Names.Id, "ID1");
        chain.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(ProvisioningCertificate)));
        if (ProvisioningSubCas.Count > 0)
        {
            var subs = new ExiElement(Iso20Names.SubCertificates);
            foreach (var s in ProvisioningSubCas) subs.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(s)));
            chain.Add(subs);
        }
        req.Add(chain);
        req.Add(RootList(Iso20Names.ListOfRootCertificateIds, Iso20Names.RootCertificateId));
        req.Add(new ExiElement(Iso20Names.MaximumContractCertificateChains, ExiValue.FromInteger(maximumContractChains)));
        if (prioritizedEmaids is { Count: > 0 })
        {
            var list = new ExiElement(Iso20Names.PrioritizedEmaids);
            foreach (var e in prioritizedEmaids) list.Add(new ExiElement(Iso20Names.Emaid, ExiValue.FromString(e)));
            req.Add(list);
        }
        ExiSignature.Sign(ExiSchema.Iso20, req, ["ID1"], new EcdsaExiSignatureAlgorithm(ProvisioningKey));
        return ExiSchema.Iso20.Encode(req);
    }

    /// <summary>Checks a -20 CertificateInstallationRes; returns the contract and RemainingContractCertificateChains.</summary>
    public (InstalledContract Contract, int Remaining) AcceptIso20Response(byte[] exi)
    {
        var res = ExiSchema.Iso20.Decode(exi);
        var code = res.Element(Iso20Names.ResponseCode)!.Text;
        if (!code.StartsWith("OK", StringComparison.Ordinal)) throw new VehicleRejectedResponseException(code, "The hub refused.");
        CheckCpsSignature(ExiSchema.Iso20, res, res.Element(Iso20Names.CpsCertificateChain)!, Iso20Names.Certificate, Iso20Names.SubCertificates, ["#id1"], code);
        var data = res.Element(Iso20Names.SignedInstallationData)!;
        var chain = data.Element(Iso20Names.ContractCertificateChain)!;
        var leaf = chain.Element(Iso20Names.Certificate)!.Value.AsBytes();
        var subs = chain.Element(Iso20Names.SubCertificates)?.Elements().Select(e => e.Value.AsBytes()).ToList() ?? [];
        var curve = data.Element(Iso20Names.EcdhCurve)!.Text;
        if (curve != "SECP521") throw new VehicleRejectedResponseException(code, $"ECDHCurve {curve} does not match the vehicle's P-521 key.");
        var leafCert = CertificateFacts.Read(leaf, "contract certificate");
        using var ecdh = ECDiffieHellman.Create(ProvisioningKey.ExportParameters(true));
        var scalar = ContractKeyEncryption.DecryptIso20Secp521(data.Element(Iso20Names.Secp521EncryptedPrivateKey)!.Value.AsBytes(),
            data.Element(Iso20Names.DhPublicKey)!.Value.AsBytes(), ecdh, Pcid, CertificateFacts.SubjectKeyIdentifier(leafCert));
        var emaid = CertificateFacts.CommonName(leafCert) ?? "";
        var remaining = (int)res.Element(Iso20Names.RemainingContractCertificateChains)!.Value.AsInt64();
        return (new InstalledContract(emaid, leaf, subs, KeyMatching(scalar, leaf, ECCurve.NamedCurves.nistP521, code, emaid)), remaining);
    }

    // ---- shared ----

    private ExiElement RootList(QName list, QName item)
    {
        var l = new ExiElement(list);
        foreach (var root in TrustedV2GRoots)
        {
            var id = new ExiElement(item);
            id.Add(new ExiElement(Iso2Names.X509IssuerName, ExiValue.FromString(root.SubjectDN.ToString())));
            id.Add(new ExiElement(Iso2Names.X509SerialNumber, ExiValue.FromInteger(new System.Numerics.BigInteger(root.SerialNumber.ToByteArray(), isBigEndian: true))));
            l.Add(id);
        }
        return l;
    }

    private byte[] SignIso2(ExiElement body, ECDsa key)
    {
        var message = new ExiElement(Iso2Names.V2GMessage);
        var header = new ExiElement(Iso2Names.Header);
        header.Add(new ExiElement(Iso2Names.SessionId, ExiValue.FromBytes(SessionId, hex: true)));
        message.Add(header);
        message.Add(new ExiElement(Iso2Names.Body).Add(body));
        ExiSignature.Sign(ExiSchema.Iso2, message, ["ID1"], new EcdsaExiSignatureAlgorithm(key));
        return ExiSchema.Iso2.Encode(message);
    }

    private void CheckCpsSignature(ExiSchema schema, ExiElement message, ExiElement cpsChain, QName certificate, QName subCertificates, string[] expectedRefs, string code)
    {
        var leaf = CertificateFacts.Read(cpsChain.Element(certificate)!.Value.AsBytes(), "CPS certificate");
        var subs = cpsChain.Element(subCertificates)?.Elements().Select(e => CertificateFacts.Read(e.Value.AsBytes(), "CPS sub-CA")).ToList() ?? [];
        var path = _validator.Validate(new ChainValidationRequest
        {
            Leaf = leaf, Intermediates = subs, TrustAnchors = TrustedV2GRoots, At = DateTimeOffset.UtcNow, Iso15118 = new Iso15118Rules(),
        });
        if (!path.IsValid) throw new VehicleRejectedResponseException(code, $"The CPS chain does not lead to a trusted V2G root: {path.Reason} ({path.Detail}).");
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(leaf.SubjectPublicKeyInfo.GetEncoded(), out _);
        var check = ExiSignature.Verify(schema, message, key);
        if (!check.IsValid) throw new VehicleRejectedResponseException(code, "The CPS signature does not verify: " + check);
        var covered = check.References.Select(r => r.Uri).ToHashSet();
        if (!expectedRefs.All(covered.Contains)) throw new VehicleRejectedResponseException(code, "The signature does not cover every contract element.");
    }

    /// <summary>[V2G2-823]-style check: the decrypted scalar must be below n and give the certificate's public key.</summary>
    private static ECDsa KeyMatching(byte[] scalar, byte[] certificate, ECCurve curve, string code, string emaid)
    {
        var cert = CertificateFacts.Read(certificate, "contract certificate");
        if (!string.Equals(CertificateFacts.CommonName(cert), emaid, StringComparison.OrdinalIgnoreCase))
            throw new VehicleRejectedResponseException(code, "eMAID is not the contract certificate's CN.");
        using var fromCert = ECDsa.Create();
        fromCert.ImportSubjectPublicKeyInfo(cert.SubjectPublicKeyInfo.GetEncoded(), out _);
        var q = fromCert.ExportParameters(false).Q;
        var key = ECDsa.Create();
        try
        {
            // Importing D with the certificate's Q makes OpenSSL check that they belong together.
            key.ImportParameters(new ECParameters { Curve = curve, D = scalar, Q = q });
            byte[] data = [1, 2, 3];
            var probe = key.SignData(data, HashAlgorithmName.SHA256);
            if (!fromCert.VerifyData(data, probe, HashAlgorithmName.SHA256)) throw new CryptographicException("mismatch");
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new VehicleRejectedResponseException(code, "The decrypted contract key does not belong to the contract certificate.");
        }
    }

    public void Dispose() => ProvisioningKey.Dispose();
}
