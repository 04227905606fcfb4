using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>Builds the to-be-signed certificate a profile describes; extension content comes from the profile alone.</summary>
public static class TbsCertificateBuilder
{
    public sealed record Input(
        CertificateProfile Profile,
        BigInteger Serial,
        X509Name Issuer,
        KeyAlgorithm IssuerKey,
        byte[]? IssuerKeyId,
        string? IssuerCaId,
        X509Name Subject,
        SubjectPublicKeyInfo PublicKey,
        DateTime NotBefore,
        DateTime NotAfter,
        IReadOnlyList<GeneralName>? SubjectAltNames = null);

    public static TbsCertificateStructure Build(Input i, PkiOptions options)
    {
        var g = new V3TbsCertificateGenerator();
        g.SetSerialNumber(new DerInteger(i.Serial));
        g.SetSignature(SignatureAlgorithms.IdentifierFor(i.IssuerKey));
        g.SetIssuer(i.Issuer);
        g.SetStartDate(new Time(i.NotBefore));
        g.SetEndDate(new Time(i.NotAfter));
        g.SetSubject(i.Subject);
        g.SetSubjectPublicKeyInfo(i.PublicKey);
        g.SetExtensions(Extensions(i, options));
        return g.GenerateTbsCertificate();
    }

    private static X509Extensions Extensions(Input i, PkiOptions options)
    {
        var p = i.Profile;
        var g = new X509ExtensionsGenerator();
        var bc = !p.BasicConstraints.Ca ? new BasicConstraints(false)
            : p.BasicConstraints.PathLen is { } pl ? new BasicConstraints(pl) : new BasicConstraints(true);
        g.AddExtension(X509Extensions.BasicConstraints, p.BasicConstraints.Critical, bc);
        g.AddExtension(X509Extensions.KeyUsage, p.KeyUsage.Critical, new KeyUsage(CertificateLinter.KeyUsageMask(p.KeyUsage.Usages)));
        if (p.ExtendedKeyUsage.Count > 0)
            g.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(p.ExtendedKeyUsage.Select(CertificateLinter.ExtendedKeyUsageOid).ToArray()));
        g.AddExtension(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(PublicKeys.KeyIdentifier(i.PublicKey)));
        if (p.Kind != ProfileKind.Root && i.IssuerKeyId != null)
            g.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(i.IssuerKeyId));
        if (p.AuthorityInfoAccess && i.IssuerCaId != null)
            g.AddExtension(X509Extensions.AuthorityInfoAccess, false, new AuthorityInformationAccess(
            [
                new AccessDescription(AccessDescription.IdADOcsp, new GeneralName(GeneralName.UniformResourceIdentifier, options.OcspUrl(i.IssuerCaId))),
                new AccessDescription(AccessDescription.IdADCAIssuers, new GeneralName(GeneralName.UniformResourceIdentifier, options.CaIssuersUrl(i.IssuerCaId))),
            ]));
        if (p.CrlDistributionPoint && i.IssuerCaId != null)
            g.AddExtension(X509Extensions.CrlDistributionPoints, false, new CrlDistPoint(
            [
                new DistributionPoint(new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.UniformResourceIdentifier, options.CrlUrl(i.IssuerCaId)))), null, null),
            ]));
        if (i.SubjectAltNames is { Count: > 0 } sans)
            g.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(sans.ToArray()));
        if (p.OcspNoCheck)
            g.AddExtension(CertificateLinter.OcspNoCheckOid, false, DerNull.Instance);
        return g.Generate();
    }
}
