using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.TestSupport.Vehicles;

/// <summary>
/// A contract as a vehicle holds it after a successful installation or update: an EC key (P-256, P-521), or for an
/// X448 delivery the Ed448 contract key's 56-byte secret scalar.
/// </summary>
public sealed class InstalledContract : IDisposable
{
    private readonly ECDsa? _key;

    public InstalledContract(string emaid, byte[] certificate, IReadOnlyList<byte[]> subCertificates, ECDsa key)
    {
        Emaid = emaid; Certificate = certificate; SubCertificates = subCertificates; _key = key;
    }

    public InstalledContract(string emaid, byte[] certificate, IReadOnlyList<byte[]> subCertificates, byte[] ed448SecretScalar)
    {
        Emaid = emaid; Certificate = certificate; SubCertificates = subCertificates; Ed448SecretScalar = ed448SecretScalar;
    }

    public string Emaid { get; }
    public byte[] Certificate { get; }
    public IReadOnlyList<byte[]> SubCertificates { get; }
    /// <summary>The decrypted EC contract key (it matched the certificate).</summary>
    public ECDsa Key => _key ?? throw new InvalidOperationException("This contract's key is Ed448 (see Ed448SecretScalar).");
    /// <summary>The decrypted Ed448 secret scalar (it matched the certificate), or null for an EC key.</summary>
    public byte[]? Ed448SecretScalar { get; }

    public void Dispose()
    {
        _key?.Dispose();
        if (Ed448SecretScalar != null) CryptographicOperations.ZeroMemory(Ed448SecretScalar);
    }
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
/// reference, then decrypts the contract key and checks it belongs to the contract certificate. A -20 vehicle holds a
/// P-521 or an Ed448 provisioning key.
/// </summary>
public sealed class VehicleSimulator : IDisposable
{
    private readonly ChainValidator _validator = new();
    private readonly ParsedCertificates _keys = new(64);
    private readonly ECDsa? _ecKey;

    /// <summary>The EC provisioning key (P-256 for -2, P-521 for -20).</summary>
    public ECDsa ProvisioningKey => _ecKey ?? throw new InvalidOperationException("This vehicle's provisioning key is Ed448.");
    /// <summary>The Ed448 provisioning key of a -20 vehicle of the Ed448 family, or null.</summary>
    public Ed448PrivateKeyParameters? Ed448ProvisioningKey { get; }
    public byte[] ProvisioningCertificate { get; }
    /// <summary>OEM Sub-CA 2 then Sub-CA 1.</summary>
    public IReadOnlyList<byte[]> ProvisioningSubCas { get; }
    public IReadOnlyList<X509Certificate> TrustedV2GRoots { get; }
    public string Pcid { get; }
    public IsoStandard Standard { get; }
    /// <summary>The V2G session the vehicle is in (the -20 hub hands out one contract per request within a session).</summary>
    public byte[] SessionId { get; set; } = RandomNumberGenerator.GetBytes(8);

    public VehicleSimulator(ECDsa provisioningKey, byte[] provisioningCertificate, IReadOnlyList<byte[]> subCas, IReadOnlyList<X509Certificate> trustedV2GRoots)
        : this(provisioningCertificate, subCas, trustedV2GRoots, provisioningKey.KeySize == 256 ? IsoStandard.Iso15118_2 : IsoStandard.Iso15118_20)
    {
        _ecKey = provisioningKey;
    }

    /// <summary>A -20 vehicle of the Ed448 family: it signs with Ed448 and receives its contract key over X448.</summary>
    public VehicleSimulator(Ed448PrivateKeyParameters provisioningKey, byte[] provisioningCertificate, IReadOnlyList<byte[]> subCas, IReadOnlyList<X509Certificate> trustedV2GRoots)
        : this(provisioningCertificate, subCas, trustedV2GRoots, IsoStandard.Iso15118_20)
    {
        Ed448ProvisioningKey = provisioningKey;
    }

    private VehicleSimulator(byte[] provisioningCertificate, IReadOnlyList<byte[]> subCas, IReadOnlyList<X509Certificate> trustedV2GRoots, IsoStandard standard)
    {
        ProvisioningCertificate = provisioningCertificate; ProvisioningSubCas = subCas; TrustedV2GRoots = trustedV2GRoots; Standard = standard;
        var cert = CertificateFacts.Read(provisioningCertificate, "provisioning certificate");
        Pcid = (CertificateFacts.CommonName(cert) ?? "").ToUpperInvariant();
    }

    /// <summary>
    /// A vehicle with a fresh provisioning key certified by one of our OEM Sub-CA 2s (development hierarchy): P-256 under
    /// an iso2 Sub-CA, P-521 under an iso20 one unless <paramref name="ed448"/> asks for the Ed448 family.
    /// </summary>
    public static async Task<VehicleSimulator> CreateAsync(CertificateAuthorityServices ca, string oemSubCa2Id, string pcid, IReadOnlyList<X509Certificate> trustedV2GRoots,
        bool ed448 = false, CancellationToken ct = default)
    {
        var sub = await ca.Authorities.GetAsync(oemSubCa2Id, ct);
        var standard = sub.Profile.Id[..sub.Profile.Id.IndexOf('/')];
        ECDsa? ec = null;
        Ed448PrivateKeyParameters? ed = null;
        SubjectPublicKeyInfo publicKey;
        if (ed448 && standard == "iso20")
        {
            ed = new Ed448PrivateKeyParameters(new Org.BouncyCastle.Security.SecureRandom());
            publicKey = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ed.GeneratePublicKey());
        }
        else
        {
            ec = ECDsa.Create(standard == "iso2" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP521);
            publicKey = SubjectPublicKeyInfo.GetInstance(ec.ExportSubjectPublicKeyInfo());
        }
        var issued = await ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = standard + "/oem-provisioning", IssuerId = oemSubCa2Id, PublicKey = publicKey,
            Subject = new X509Name($"CN={pcid},O=PlugAndCharge Vehicle,DC=OEM"), Actor = "vehicle-simulator",
        }, ct);
        var chain = issued.IssuerChain;
        var subs = chain.Take(chain.Count - 1).Select(c => c.GetEncoded()).ToList();
        return ed != null ? new VehicleSimulator(ed, issued.Certificate.GetEncoded(), subs, trustedV2GRoots)
            : new VehicleSimulator(ec!, issued.Certificate.GetEncoded(), subs, trustedV2GRoots);
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
        ExiSignature.Sign(ExiSchema.Iso20, req, ["ID1"], Ed448ProvisioningKey is { } ed ? Ed448ExiSignature.Signer(ed) : new EcdsaExiSignatureAlgorithm(ProvisioningKey));
        return ExiSchema.Iso20.Encode(req);
    }

    /// <summary>
    /// Checks a -20 CertificateInstallationRes; returns the contract and RemainingContractCertificateChains. A decryption
    /// that fails rejects the response [V2G20-2504].
    /// </summary>
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
        var expected = Ed448ProvisioningKey == null ? "SECP521" : "X448";
        if (curve != expected) throw new VehicleRejectedResponseException(code, $"ECDHCurve {curve} does not match the vehicle's key ({expected}).");
        var leafCert = CertificateFacts.Read(leaf, "contract certificate");
        var ski = CertificateFacts.SubjectKeyIdentifier(leafCert);
        var dh = data.Element(Iso20Names.DhPublicKey)!.Value.AsBytes();
        var emaid = CertificateFacts.CommonName(leafCert) ?? "";
        var remaining = (int)res.Element(Iso20Names.RemainingContractCertificateChains)!.Value.AsInt64();
        if (Ed448ProvisioningKey is { } ed)
        {
            var own = Ed448KeyAgreement.SecretScalar(ed.GetEncoded());
            try
            {
                var secret = ContractKeyEncryption.DecryptIso20X448(data.Element(Iso20Names.X448EncryptedPrivateKey)!.Value.AsBytes(), dh, own, Pcid, ski);
                return (new InstalledContract(emaid, leaf, subs, Ed448ScalarMatching(secret, leafCert, code, emaid)), remaining);
            }
            finally { CryptographicOperations.ZeroMemory(own); }
        }
        using var ecdh = ECDiffieHellman.Create(ProvisioningKey.ExportParameters(true));
        var scalar = ContractKeyEncryption.DecryptIso20Secp521(data.Element(Iso20Names.Secp521EncryptedPrivateKey)!.Value.AsBytes(), dh, ecdh, Pcid, ski);
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
        var check = ExiSignature.Verify(schema, message, _keys.ExiVerifier(leaf));
        if (!check.IsValid) throw new VehicleRejectedResponseException(code, "The CPS signature does not verify: " + check);
        var covered = check.References.Select(r => r.Uri).ToHashSet();
        if (!expectedRefs.All(covered.Contains)) throw new VehicleRejectedResponseException(code, "The signature does not cover every contract element.");
    }

    /// <summary>
    /// The vehicle's check of a delivered key: the decrypted scalar must be below n and give the certificate's public key
    /// (ISO 15118-2 [V2G2-823]; -20 SECP521 [V2G20-2507], where a scalar whose 7 leading bits are not zero [V2G20-2678]
    /// is above n and refused here too).
    /// </summary>
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

    /// <summary>
    /// The Ed448 counterpart of <see cref="KeyMatching"/> [V2G20-2509], [V2G20-2510]: the delivered scalar s must give the
    /// certificate's key, which the vehicle checks in X448 form (X448(s, 5) against the RFC 7748 image of the certificate's
    /// Ed448 key). The "smaller than the order" half of [V2G20-2510] cannot hold for a clamped scalar and is not asked.
    /// </summary>
    private static byte[] Ed448ScalarMatching(byte[] scalar, X509Certificate certificate, string code, string emaid)
    {
        if (!string.Equals(CertificateFacts.CommonName(certificate), emaid, StringComparison.OrdinalIgnoreCase))
            throw new VehicleRejectedResponseException(code, "eMAID is not the contract certificate's CN.");
        if (certificate.GetPublicKey() is not Ed448PublicKeyParameters ed
            || !Ed448KeyAgreement.X448PublicKeyOfScalar(scalar).AsSpan().SequenceEqual(Ed448KeyAgreement.X448PublicKey(ed.GetEncoded())))
        {
            CryptographicOperations.ZeroMemory(scalar);
            throw new VehicleRejectedResponseException(code, "The decrypted contract key does not belong to the contract certificate.");
        }
        return scalar;
    }

    public void Dispose() => _ecKey?.Dispose();
}
