using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Everything the validator needs from one certificate, parsed once: certificates are immutable, so a view is cached per
/// certificate object. Parsing never throws; problems are recorded and reported only if the certificate ends up in a path,
/// so a broken certificate nobody uses cannot fail a validation (x509-limbo "unrelated" cases).
/// </summary>
internal sealed class CertificateView
{
    private const string OidBasicConstraints = "2.5.29.19";
    private const string OidKeyUsage = "2.5.29.15";
    private const string OidExtendedKeyUsage = "2.5.29.37";
    private const string OidSubjectAltName = "2.5.29.17";
    private const string OidIssuerAltName = "2.5.29.18";
    private const string OidNameConstraints = "2.5.29.30";
    private const string OidSubjectKeyIdentifier = "2.5.29.14";
    private const string OidAuthorityKeyIdentifier = "2.5.29.35";
    private const string OidCertificatePolicies = "2.5.29.32";
    private const string OidPolicyConstraints = "2.5.29.36";
    private const string OidCrlDistributionPoints = "2.5.29.31";
    private const string OidFreshestCrl = "2.5.29.46";
    private const string OidSubjectDirectoryAttributes = "2.5.29.9";
    private const string OidAuthorityInfoAccess = "1.3.6.1.5.5.7.1.1";
    private const string OidSubjectInfoAccess = "1.3.6.1.5.5.7.1.11";
    private const string OidOcspNoCheck = "1.3.6.1.5.5.7.48.1.5";
    private const string OidSctList = "1.3.6.1.4.1.11129.2.4.2";
    public const string OidAnyExtendedKeyUsage = "2.5.29.37.0";

    private static readonly GeneralName[] NoNames = [];
    private static readonly DistinguishedName EmptyName = DistinguishedName.Create(X509Name.GetInstance(DerSequence.Empty));

    private CertificateView(X509Certificate certificate)
    {
        Certificate = certificate;
    }

    public X509Certificate Certificate { get; }

    public byte[] Der { get; private set; } = [];

    public CertificateFingerprint Fingerprint { get; private set; }

    public int TbsOffset { get; private set; }

    public int TbsLength { get; private set; }

    public ReadOnlySpan<byte> Tbs => Der.AsSpan(TbsOffset, TbsLength);

    public AlgorithmIdentifier SignatureAlgorithm { get; private set; } = null!;

    public byte[] SignatureValue { get; private set; } = [];

    public SubjectPublicKeyInfo PublicKeyInfo { get; private set; } = null!;

    public byte[] PublicKeyInfoDer { get; private set; } = [];

    public int Version { get; private set; }

    public DistinguishedName Subject { get; private set; } = EmptyName;

    public DistinguishedName Issuer { get; private set; } = EmptyName;

    public bool IsSelfIssued => string.Equals(Subject.Key, Issuer.Key, StringComparison.Ordinal);

    public DateTime NotBefore { get; private set; }

    public DateTime NotAfter { get; private set; }

    /// <summary>First reason the certificate is unusable (cannot be parsed, broken extension), or null.</summary>
    public string? Malformed { get; private set; }

    /// <summary>RFC 5280 §4.1.1.2: signatureAlgorithm must equal tbsCertificate.signature.</summary>
    public bool SignatureAlgorithmMismatch { get; private set; }

    public string? UnknownCriticalExtension { get; private set; }

    public bool HasBasicConstraints { get; private set; }

    public bool BasicConstraintsCritical { get; private set; }

    public bool IsCa { get; private set; }

    public int? PathLength { get; private set; }

    /// <summary>keyUsage bits, or null without a keyUsage extension.</summary>
    public KeyUsageBits? KeyUsage { get; private set; }

    public List<string>? ExtendedKeyUsages { get; private set; }

    public bool ExtendedKeyUsageCritical { get; private set; }

    public byte[]? SubjectKeyId { get; private set; }

    public bool SubjectKeyIdCritical { get; private set; }

    public bool HasAuthorityKeyId { get; private set; }

    public byte[]? AuthorityKeyId { get; private set; }

    public bool AuthorityKeyIdCritical { get; private set; }

    public bool AuthorityKeyIdHasIssuerOrSerial { get; private set; }

    public bool HasSubjectAltName { get; private set; }

    public bool SubjectAltNameCritical { get; private set; }

    public CertificateNames Names { get; private set; } = new();

    public NameConstraintSet? NameConstraints { get; private set; }

    public bool HasNameConstraints { get; private set; }

    public bool NameConstraintsCritical { get; private set; }

    public string? NameConstraintsError { get; private set; }

    public bool AuthorityInfoAccessCritical { get; private set; }

    public bool HasPolicyConstraints { get; private set; }

    public bool PolicyConstraintsCritical { get; private set; }

    public static CertificateView Create(X509Certificate certificate)
    {
        var view = new CertificateView(certificate);
        try
        {
            view.Parse();
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or FormatException or InvalidOperationException or Asn1Exception)
        {
            view.Malformed ??= "cannot be parsed: " + e.Message;
        }

        return view;
    }

    private void Parse()
    {
        Der = CertificateReader.OriginalEncoding(Certificate);
        Fingerprint = CertificateFingerprint.Of(Der);
        if (!DerTlv.TryFindSignedPart(Der, out var offset, out var length))
        {
            Malformed = "tbsCertificate cannot be located in the encoding";
            return;
        }

        TbsOffset = offset;
        TbsLength = length;
        var structure = Certificate.CertificateStructure;
        var tbs = structure.TbsCertificate;
        SignatureAlgorithm = structure.SignatureAlgorithm;
        SignatureAlgorithmMismatch = !SignatureAlgorithm.Equals(tbs.Signature);
        SignatureValue = structure.Signature.GetOctets();
        PublicKeyInfo = tbs.SubjectPublicKeyInfo;
        PublicKeyInfoDer = PublicKeyInfo.GetEncoded(Asn1Encodable.Der);
        Version = tbs.Version;
        Subject = DistinguishedName.Create(tbs.Subject);
        Issuer = DistinguishedName.Create(tbs.Issuer);
        NotBefore = structure.StartDate.ToDateTime().ToUniversalTime();
        NotAfter = structure.EndDate.ToDateTime().ToUniversalTime();

        var extensions = tbs.Extensions;
        if (extensions is null)
        {
            return;
        }

        foreach (var oid in extensions.ExtensionOids)
        {
            var extension = extensions.GetExtension(oid);
            try
            {
                ParseExtension(oid.Id, extension.IsCritical, Asn1Object.FromByteArray(extension.Value.GetOctets()));
            }
            catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or FormatException or InvalidOperationException or Asn1Exception)
            {
                Malformed ??= "extension " + oid.Id + " cannot be parsed: " + e.Message;
            }
        }
    }

    private void ParseExtension(string oid, bool critical, Asn1Object value)
    {
        switch (oid)
        {
            case OidBasicConstraints:
                // BasicConstraints.GetInstance also accepts an explicit cA FALSE, which DER forbids but real certificates carry.
                var constraints = BasicConstraints.GetInstance(value);
                HasBasicConstraints = true;
                BasicConstraintsCritical = critical;
                IsCa = constraints.IsCA();
                if (constraints.PathLenConstraint is { } pathLength)
                {
                    PathLength = pathLength.BitLength > 30 ? int.MaxValue : pathLength.IntValue;
                }

                break;
            case OidKeyUsage:
                var bits = DerBitString.GetInstance(value).GetBytes();
                var usage = KeyUsageBits.None;
                for (var bit = 0; bit < 9 && bit / 8 < bits.Length; bit++)
                {
                    if ((bits[bit / 8] & (0x80 >> (bit % 8))) != 0)
                    {
                        usage |= (KeyUsageBits)(1 << bit);
                    }
                }

                KeyUsage = usage;
                break;
            case OidExtendedKeyUsage:
                var purposes = Asn1Sequence.GetInstance(value);
                if (purposes.Count == 0)
                {
                    // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (§4.2.1.12).
                    Malformed ??= "extendedKeyUsage is empty";
                }

                ExtendedKeyUsages = new List<string>(purposes.Count);
                foreach (var purpose in purposes)
                {
                    ExtendedKeyUsages.Add(DerObjectIdentifier.GetInstance(purpose).Id);
                }

                ExtendedKeyUsageCritical = critical;
                break;
            case OidSubjectAltName:
                var sequence = Asn1Sequence.GetInstance(value);
                if (sequence.Count == 0)
                {
                    Malformed ??= "subjectAltName is empty";
                }

                HasSubjectAltName = true;
                SubjectAltNameCritical = critical;
                Names = CertificateNames.FromSubjectAltName(GeneralNames.GetInstance(sequence).GetNames() ?? NoNames);
                break;
            case OidNameConstraints:
                HasNameConstraints = true;
                NameConstraintsCritical = critical;
                NameConstraints = NameConstraintSet.Parse(value, out var error);
                NameConstraintsError = error;
                break;
            case OidSubjectKeyIdentifier:
                SubjectKeyId = Asn1OctetString.GetInstance(value).GetOctets();
                SubjectKeyIdCritical = critical;
                break;
            case OidAuthorityKeyIdentifier:
                var authority = AuthorityKeyIdentifier.GetInstance(value);
                HasAuthorityKeyId = true;
                AuthorityKeyId = authority.KeyIdentifier?.GetOctets();
                AuthorityKeyIdCritical = critical;
                AuthorityKeyIdHasIssuerOrSerial = authority.AuthorityCertIssuer is not null || authority.AuthorityCertSerialNumber is not null;
                break;
            case OidAuthorityInfoAccess:
                if (AuthorityInformationAccess.GetInstance(value).GetAccessDescriptions().Length == 0)
                {
                    Malformed ??= "authorityInfoAccess is empty";
                }

                AuthorityInfoAccessCritical = critical;
                break;
            case OidPolicyConstraints:
                // Policy processing (RFC 5280 §6.1.3 (d)-(f)) is not implemented; a critical policyConstraints is refused below.
                HasPolicyConstraints = true;
                PolicyConstraintsCritical = critical;
                Asn1Sequence.GetInstance(value);
                goto default;
            case OidCertificatePolicies:
                // Validation runs with initial-policy-set = anyPolicy and no explicit-policy requirement, under which
                // certificatePolicies cannot make a path fail; it is still checked to be well-formed.
                Asn1Sequence.GetInstance(value);
                break;
            case OidCrlDistributionPoints:
            case OidFreshestCrl:
                CrlDistPoint.GetInstance(value);
                break;
            case OidIssuerAltName:
            case OidSubjectInfoAccess:
            case OidSubjectDirectoryAttributes:
            case OidOcspNoCheck:
            case OidSctList:
                break;
            default:
                if (critical)
                {
                    UnknownCriticalExtension ??= oid;
                }

                break;
        }
    }

    /// <summary>True when the subject carries the given key usage or has no keyUsage extension (RFC 5280 §4.2.1.3).</summary>
    public bool AllowsKeyUsage(KeyUsageBits bits) => KeyUsage is not { } usage || (usage & bits) == bits;

    public bool SamePublicKey(CertificateView other) => PublicKeyInfoDer.AsSpan().SequenceEqual(other.PublicKeyInfoDer);
}
