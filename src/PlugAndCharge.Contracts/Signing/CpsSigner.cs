using System.Numerics;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Contracts.Signing;

/// <summary>
/// A CPS (certificate provisioning service) signer: the CPS leaf whose key signs installation responses, its sub-CAs
/// (Sub-CA 2 then Sub-CA 1, the order of SAProvisioningCertificateChain) and the V2G root they chain to.
/// </summary>
public sealed class CpsSigner
{
    public string Id { get; }
    public X509Certificate Leaf { get; }
    public IReadOnlyList<X509Certificate> SubCas { get; }
    public X509Certificate Root { get; }
    public ISigningKey Key { get; }
    public IsoStandard Standard { get; }
    /// <summary>SHA-256 of the V2G root's DER, lower-case hex.</summary>
    public string RootFingerprint { get; }
    public byte[] LeafDer { get; }
    public IReadOnlyList<byte[]> SubCaDers { get; }

    public CpsSigner(string id, X509Certificate leaf, IReadOnlyList<X509Certificate> subCas, X509Certificate root, ISigningKey key)
    {
        Id = id; Leaf = leaf; SubCas = subCas; Root = root; Key = key;
        if (!key.PublicKey.Equals(leaf.SubjectPublicKeyInfo))
            throw new ContractException(ContractError.NoCpsSigner, $"The key of CPS signer '{id}' does not belong to its certificate.");
        Standard = key.Algorithm == KeyAlgorithm.EcP256 ? IsoStandard.Iso15118_2 : IsoStandard.Iso15118_20;
        RootFingerprint = CertificateFacts.Fingerprint(root.GetEncoded());
        LeafDer = leaf.GetEncoded();
        SubCaDers = subCas.Select(s => s.GetEncoded()).ToList();
    }

    /// <summary>True when a vehicle's ListOfRootCertificateIDs entry names this signer's V2G root.</summary>
    public bool IsTrustedBy(IReadOnlyList<(string IssuerName, BigInteger Serial)> rootIds)
    {
        foreach (var (name, serial) in rootIds)
            if (CertificateFacts.MatchesIssuerSerial(Root, name, serial)) return true;
        return false;
    }

    public string SignatureMethod => Key.Algorithm switch
    {
        KeyAlgorithm.EcP256 => ExiSignatureMethods.EcdsaSha256,
        KeyAlgorithm.EcP521 => ExiSignatureMethods.EcdsaSha512,
        KeyAlgorithm.Ed448 => ExiSignatureMethods.Ed448,
        _ => throw new ContractException(ContractError.NoCpsSigner, $"A {Key.Algorithm} key cannot sign installation responses."),
    };

    public ExiDigestMethod DigestMethod => Key.Algorithm == KeyAlgorithm.EcP256 ? ExiDigestMethod.Sha256 : ExiDigestMethod.Sha512;

    /// <summary>
    /// Issues a CPS leaf from one of our CPS Sub-CA 2s with a new key at <paramref name="keyUri"/> (development and
    /// tests; production signers are configured from their certificate and key URI).
    /// </summary>
    public static async Task<CpsSigner> IssueAsync(CertificateAuthorityServices ca, string cpsSubCa2Id, string keyUri, string subject, string actor, CancellationToken ct = default)
    {
        var sub = await ca.Authorities.GetAsync(cpsSubCa2Id, ct);
        var key = await ca.Keys.GenerateAsync(KeyUri.Parse(keyUri), sub.Key.Algorithm, ct);
        var profile = sub.Profile.Id[..sub.Profile.Id.IndexOf('/')] + "/cps-leaf";
        var issued = await ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = profile, IssuerId = cpsSubCa2Id, PublicKey = key.PublicKey, Subject = new X509Name(subject), Actor = actor,
        }, ct);
        var chain = issued.IssuerChain;
        return new CpsSigner(keyUri, issued.Certificate, chain.Take(chain.Count - 1).ToList(), chain[^1], key);
    }
}

/// <summary>The configured CPS signers; picks the one whose V2G root the vehicle trusts.</summary>
public sealed class CpsSignerDirectory
{
    private readonly List<CpsSigner> _signers = [];
    private readonly Lock _lock = new();

    public void Add(CpsSigner signer)
    {
        lock (_lock) _signers.Add(signer);
    }

    public IReadOnlyList<CpsSigner> All
    {
        get { lock (_lock) return _signers.ToList(); }
    }

    /// <summary>The first signer of the standard trusted by one of the vehicle's roots; null when none is.</summary>
    public CpsSigner? Select(IsoStandard standard, IReadOnlyList<(string IssuerName, BigInteger Serial)> rootIds)
    {
        foreach (var s in All)
            if (s.Standard == standard && s.IsTrustedBy(rootIds)) return s;
        return null;
    }

    /// <summary>Any signer of the standard: signs failure responses when no trusted one exists (signed where possible).</summary>
    public CpsSigner? Default(IsoStandard standard) => All.FirstOrDefault(s => s.Standard == standard);

    public CpsSigner? ByRootFingerprint(IsoStandard standard, string fingerprint) =>
        All.FirstOrDefault(s => s.Standard == standard && string.Equals(s.RootFingerprint, fingerprint.Replace(":", "").Replace("-", ""), StringComparison.OrdinalIgnoreCase));
}
