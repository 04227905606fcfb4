using PlugAndCharge.Pki.Revocation;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>A CRL parsed once for revocation checks (RFC 5280 §5, §6.3): scope, freshness, usability and its entries.</summary>
internal sealed class CrlView
{
    private const string OidCrlNumber = "2.5.29.20";
    private const string OidDeltaCrlIndicator = "2.5.29.27";
    private const string OidIssuingDistributionPoint = "2.5.29.28";
    private const string OidAuthorityKeyIdentifier = "2.5.29.35";
    private const string OidIssuerAltName = "2.5.29.18";
    private const string OidFreshestCrl = "2.5.29.46";
    private const string OidAuthorityInfoAccess = "1.3.6.1.5.5.7.1.1";

    private readonly Dictionary<BigInteger, (DateTime RevokedAt, RevocationReason Reason)> _entries = [];

    private CrlView()
    {
    }

    public byte[] Der { get; private set; } = [];

    public int TbsOffset { get; private set; }

    public int TbsLength { get; private set; }

    public ReadOnlySpan<byte> Tbs => Der.AsSpan(TbsOffset, TbsLength);

    public AlgorithmIdentifier SignatureAlgorithm { get; private set; } = null!;

    public byte[] SignatureValue { get; private set; } = [];

    public DistinguishedName? Issuer { get; private set; }

    public DateTime ThisUpdate { get; private set; }

    public DateTime? NextUpdate { get; private set; }

    public byte[]? AuthorityKeyId { get; private set; }

    /// <summary>Why the CRL cannot be relied on although it names the issuer, or null.</summary>
    public string? Unusable { get; private set; }

    /// <summary>A delta CRL or a CRL limited to some reasons or issuers: not a complete answer alone.</summary>
    public bool IsPartial { get; private set; }

    public bool OnlyUserCertificates { get; private set; }

    public bool OnlyCaCertificates { get; private set; }

    public static CrlView Create(X509Crl crl)
    {
        var view = new CrlView();
        try
        {
            view.Parse(crl);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or FormatException or InvalidOperationException or Asn1Exception)
        {
            view.Unusable ??= "cannot be parsed: " + e.Message;
        }

        return view;
    }

    public bool TryGetEntry(BigInteger serial, out DateTime revokedAt, out RevocationReason reason)
    {
        var found = _entries.TryGetValue(serial, out var entry);
        revokedAt = entry.RevokedAt;
        reason = entry.Reason;
        return found;
    }

    private void Parse(X509Crl crl)
    {
        Der = CertificateReader.OriginalEncoding(crl);
        if (!DerTlv.TryFindSignedPart(Der, out var offset, out var length))
        {
            Unusable = "tbsCertList cannot be located in the encoding";
            return;
        }

        TbsOffset = offset;
        TbsLength = length;
        var list = crl.CertificateList;
        var tbs = list.TbsCertList;
        SignatureAlgorithm = list.SignatureAlgorithm;
        SignatureValue = list.Signature.GetOctets();
        if (!SignatureAlgorithm.Equals(tbs.Signature))
        {
            Unusable = "signatureAlgorithm differs from tbsCertList.signature (RFC 5280 §5.1.1.2)";
        }

        Issuer = DistinguishedName.Create(tbs.Issuer);
        ThisUpdate = tbs.ThisUpdate.ToDateTime().ToUniversalTime();
        NextUpdate = tbs.NextUpdate?.ToDateTime().ToUniversalTime();
        ParseExtensions(tbs.Extensions);
        foreach (var entry in tbs.GetRevokedCertificates())
        {
            var reason = RevocationReason.Unspecified;
            var reasonExtension = entry.Extensions?.GetExtension(X509Extensions.ReasonCode);
            if (reasonExtension is not null)
            {
                reason = (RevocationReason)DerEnumerated.GetInstance(Asn1Object.FromByteArray(reasonExtension.Value.GetOctets())).IntValueExact;
            }

            if (entry.Extensions?.GetExtension(X509Extensions.CertificateIssuer) is not null)
            {
                // Entries for other issuers belong to indirect CRLs, which are not supported.
                IsPartial = true;
            }

            _entries[entry.UserCertificate.Value] = (entry.RevocationDate.ToDateTime().ToUniversalTime(), reason);
        }
    }

    private void ParseExtensions(X509Extensions? extensions)
    {
        var hasNumber = false;
        if (extensions is not null)
        {
            foreach (var oid in extensions.ExtensionOids)
            {
                var extension = extensions.GetExtension(oid);
                var value = Asn1Object.FromByteArray(extension.Value.GetOctets());
                switch (oid.Id)
                {
                    case OidCrlNumber:
                        hasNumber = true;
                        DerInteger.GetInstance(value);
                        if (extension.IsCritical)
                        {
                            Unusable ??= "cRLNumber is critical (RFC 5280 §5.2.3)";
                        }

                        break;
                    case OidDeltaCrlIndicator:
                        IsPartial = true;
                        break;
                    case OidIssuingDistributionPoint:
                        var point = IssuingDistributionPoint.GetInstance(value);
                        OnlyUserCertificates = point.OnlyContainsUserCerts;
                        OnlyCaCertificates = point.OnlyContainsCACerts;
                        IsPartial |= point.OnlySomeReasons is not null || point.IsIndirectCrl || point.OnlyContainsAttributeCerts;
                        break;
                    case OidAuthorityKeyIdentifier:
                        AuthorityKeyId = AuthorityKeyIdentifier.GetInstance(value).KeyIdentifier?.GetOctets();
                        break;
                    case OidIssuerAltName:
                    case OidFreshestCrl:
                    case OidAuthorityInfoAccess:
                        break;
                    default:
                        if (extension.IsCritical)
                        {
                            Unusable ??= "unknown critical CRL extension " + oid.Id;
                        }

                        break;
                }
            }
        }

        if (!hasNumber)
        {
            Unusable ??= "cRLNumber is missing (RFC 5280 §5.2.3)";
        }
    }
}
