using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>
/// Checks a to-be-signed certificate against its profile and RFC 5280 before anything is signed (and existing
/// certificates for <c>pnc cert lint</c> and ISO 15118 path validation). Returns every finding, not just the first.
/// </summary>
public static class CertificateLinter
{
    private static readonly (string Name, int Bit)[] KeyUsageBits =
    [
        ("digitalSignature", Org.BouncyCastle.Asn1.X509.KeyUsage.DigitalSignature), ("nonRepudiation", Org.BouncyCastle.Asn1.X509.KeyUsage.NonRepudiation),
        ("keyEncipherment", Org.BouncyCastle.Asn1.X509.KeyUsage.KeyEncipherment), ("dataEncipherment", Org.BouncyCastle.Asn1.X509.KeyUsage.DataEncipherment),
        ("keyAgreement", Org.BouncyCastle.Asn1.X509.KeyUsage.KeyAgreement), ("keyCertSign", Org.BouncyCastle.Asn1.X509.KeyUsage.KeyCertSign),
        ("cRLSign", Org.BouncyCastle.Asn1.X509.KeyUsage.CrlSign), ("encipherOnly", Org.BouncyCastle.Asn1.X509.KeyUsage.EncipherOnly),
        ("decipherOnly", Org.BouncyCastle.Asn1.X509.KeyUsage.DecipherOnly),
    ];

    public static int KeyUsageMask(IEnumerable<string> names)
    {
        var mask = 0;
        foreach (var n in names)
        {
            var bit = Array.Find(KeyUsageBits, k => string.Equals(k.Name, n, StringComparison.OrdinalIgnoreCase));
            if (bit.Name == null) throw new InvalidDataException($"Unknown keyUsage '{n}'.");
            mask |= bit.Bit;
        }
        return mask;
    }

    public static KeyPurposeID ExtendedKeyUsageOid(string name) => name switch
    {
        "ocspSigning" => KeyPurposeID.id_kp_OCSPSigning,
        "serverAuth" => KeyPurposeID.id_kp_serverAuth,
        "clientAuth" => KeyPurposeID.id_kp_clientAuth,
        _ => throw new InvalidDataException($"Unknown extendedKeyUsage '{name}'."),
    };

    /// <param name="tbs">The to-be-signed certificate.</param>
    /// <param name="profile">Its profile.</param>
    /// <param name="issuerSubject">The issuer's subject (null: skip issuer checks).</param>
    /// <param name="issuerKeyId">The issuer's key identifier (null: skip the AKI value check).</param>
    /// <param name="issuerNotAfter">The issuer's notAfter (null: skip).</param>
    public static IReadOnlyList<string> Lint(TbsCertificateStructure tbs, CertificateProfile profile, X509Name? issuerSubject = null, byte[]? issuerKeyId = null, DateTime? issuerNotAfter = null)
    {
        var f = new List<string>();
        if (tbs.VersionNumber.IntValueExact != 2) f.Add("X.509 v3 is required.");

        // RFC 5280 §4.1.2.2: positive, at most 20 octets.
        var serial = tbs.SerialNumber.Value;
        if (serial.SignValue <= 0) f.Add("serial number must be positive.");
        if (tbs.SerialNumber.GetEncoded(Asn1Encodable.Der).Length - 2 > 20) f.Add("serial number longer than 20 octets.");

        var sigName = SignatureAlgorithms.Name(tbs.Signature);
        if (!profile.SignatureAlgorithms.Contains(sigName, StringComparer.OrdinalIgnoreCase))
            f.Add($"signature algorithm {sigName} is not allowed by {profile.Id} ({string.Join(", ", profile.SignatureAlgorithms)}).");
        // ECDSA and Ed448 identifiers carry no parameters; other algorithms are refused by the profile check above.
        if (tbs.Signature.Parameters != null && (sigName.StartsWith("ecdsa", StringComparison.Ordinal) || sigName == "ed448")) f.Add("signature AlgorithmIdentifier parameters must be absent (RFC 5758 §3.2, RFC 8410 §3).");

        if (issuerSubject != null && !tbs.Issuer.Equivalent(issuerSubject, true)) f.Add("issuer name differs from the issuing CA's subject.");
        if (profile.Kind == ProfileKind.Root && !tbs.Issuer.Equivalent(tbs.Subject, true)) f.Add("a root is self-issued: issuer must equal subject.");

        LintValidity(tbs, profile, issuerNotAfter, f);
        LintSubject(tbs.Subject, profile, f);
        LintKey(tbs.SubjectPublicKeyInfo, profile, f);
        LintExtensions(tbs, profile, issuerKeyId, f);
        return f;
    }

    private static void LintValidity(TbsCertificateStructure tbs, CertificateProfile profile, DateTime? issuerNotAfter, List<string> f)
    {
        var nb = tbs.StartDate.ToDateTime();
        var na = tbs.EndDate.ToDateTime();
        if (na <= nb) f.Add("notAfter must be after notBefore.");
        if ((na - nb).TotalDays > profile.MaxValidityDays + 1) f.Add($"validity of {(na - nb).TotalDays:0} days exceeds the profile's {profile.MaxValidityDays}.");
        if (issuerNotAfter is { } ina && na > ina.AddSeconds(1)) f.Add("notAfter is beyond the issuer's notAfter.");
        // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
        foreach (var (t, label) in new[] { (tbs.StartDate, "notBefore"), (tbs.EndDate, "notAfter") })
        {
            var isUtc = t.ToAsn1Object() is Asn1UtcTime;
            var year = t.ToDateTime().Year;
            if (year < 2050 != isUtc) f.Add($"{label} must be encoded as {(year < 2050 ? "UTCTime" : "GeneralizedTime")}.");
        }
    }

    private static void LintSubject(X509Name subject, CertificateProfile profile, List<string> f)
    {
        var attrs = DistinguishedNames.Attributes(subject);
        if (attrs.Count == 0) { f.Add("subject is empty."); return; }
        foreach (var (name, value, encoded, rdnSize) in attrs)
        {
            if (!profile.Subject.Allowed.Contains(name, StringComparer.OrdinalIgnoreCase)) f.Add($"subject attribute {name} is not allowed by {profile.Id}.");
            if (rdnSize != 1) f.Add("multi-valued RDNs are not allowed.");
            if (string.IsNullOrEmpty(value)) f.Add($"subject attribute {name} is empty.");
            if (name == "DC" && encoded is not DerIA5String) f.Add("DC must be an IA5String (RFC 4519).");
            if (name == "C" && (encoded is not DerPrintableString || value.Length != 2)) f.Add("C must be a 2-letter PrintableString.");
            if (value.Length > 64 && name is "CN" or "O" or "OU" or "L" or "ST") f.Add($"subject {name} exceeds the 64-character upper bound (RFC 5280 Appendix A).");
        }
        foreach (var req in profile.Subject.Required)
            if (!attrs.Any(a => string.Equals(a.Name, req, StringComparison.OrdinalIgnoreCase))) f.Add($"subject lacks required attribute {req}.");
        foreach (var name in attrs.GroupBy(a => a.Name).Where(g => g.Count() > 1).Select(g => g.Key))
            f.Add($"subject attribute {name} appears more than once.");
        if (profile.Subject.DomainComponent.Count > 0)
        {
            var dc = attrs.FirstOrDefault(a => a.Name == "DC").Value;
            if (dc == null || !profile.Subject.DomainComponent.Contains(dc, StringComparer.OrdinalIgnoreCase))
                f.Add($"subject DC must be {string.Join(" or ", profile.Subject.DomainComponent)}, not {dc ?? "absent"}.");
        }
        var cn = attrs.FirstOrDefault(a => a.Name == "CN").Value;
        if (cn != null)
        {
            var problem = profile.Subject.CommonName switch
            {
                CommonNameRule.Emaid => Emaid.TryParse(cn, IdentifierStrictness.Strict, out var e, out var err) ? (e.Normalized != cn ? "CN must be the EMAID in normalized form (upper-case, no separators)." : null) : $"CN is not a valid EMAID: {err}",
                CommonNameRule.Pcid => Pcid.TryParse(cn, out _, out var perr) ? null : $"CN is not a PCID: {perr}",
                CommonNameRule.EvseId => EvseId.IsValid(cn) ? null : "CN is not an EVSE ID (CC*OOO*E...).",
                CommonNameRule.SeccId => EvseId.IsValidSeccId(cn) ? null : "CN is not a SECCID.",
                _ => null,
            };
            if (problem != null) f.Add(problem);
        }
    }

    private static void LintKey(SubjectPublicKeyInfo spki, CertificateProfile profile, List<string> f)
    {
        try
        {
            var key = PublicKeys.Identify(spki);
            if (!profile.Keys.Contains(key.ProfileName(), StringComparer.OrdinalIgnoreCase))
                f.Add($"key {key.ProfileName()} is not allowed by {profile.Id} ({string.Join(", ", profile.Keys)}).");
        }
        catch (PkiException e) { f.Add(e.Message); }
    }

    private static void LintExtensions(TbsCertificateStructure tbs, CertificateProfile profile, byte[]? issuerKeyId, List<string> f)
    {
        var ext = tbs.Extensions;
        if (ext == null) { f.Add("extensions are missing."); return; }
        var known = new HashSet<DerObjectIdentifier>
        {
            X509Extensions.BasicConstraints, X509Extensions.KeyUsage, X509Extensions.ExtendedKeyUsage, X509Extensions.SubjectKeyIdentifier,
            X509Extensions.AuthorityKeyIdentifier, X509Extensions.AuthorityInfoAccess, X509Extensions.CrlDistributionPoints,
            OcspNoCheckOid, X509Extensions.SubjectAlternativeName,
        };
        foreach (var oid in ext.ExtensionOids)
            if (!known.Contains(oid)) f.Add($"extension {oid.Id} is not part of profile {profile.Id}.");
        if (!profile.SubjectAltName && ext.GetExtension(X509Extensions.SubjectAlternativeName) != null)
            f.Add($"subjectAltName is not part of profile {profile.Id}.");

        // basicConstraints: critical [V2G2 Annex F]; pathLen per profile.
        var bcExt = ext.GetExtension(X509Extensions.BasicConstraints);
        if (bcExt == null) f.Add("basicConstraints is missing.");
        else
        {
            if (bcExt.IsCritical != profile.BasicConstraints.Critical) f.Add($"basicConstraints must be {(profile.BasicConstraints.Critical ? "" : "non-")}critical.");
            var bc = BasicConstraints.GetInstance(bcExt.GetParsedValue());
            if (bc.IsCA() != profile.BasicConstraints.Ca) f.Add($"basicConstraints cA must be {profile.BasicConstraints.Ca}.");
            var pl = bc.PathLenConstraintInteger?.IntValueExact;
            if (pl != profile.BasicConstraints.PathLen) f.Add($"basicConstraints pathLen must be {profile.BasicConstraints.PathLen?.ToString() ?? "absent"}, not {pl?.ToString() ?? "absent"}.");
        }

        var kuExt = ext.GetExtension(X509Extensions.KeyUsage);
        if (kuExt == null) f.Add("keyUsage is missing.");
        else
        {
            if (kuExt.IsCritical != profile.KeyUsage.Critical) f.Add($"keyUsage must be {(profile.KeyUsage.Critical ? "" : "non-")}critical.");
            var ku = Org.BouncyCastle.Asn1.X509.KeyUsage.GetInstance(kuExt.GetParsedValue());
            var expected = KeyUsageMask(profile.KeyUsage.Usages);
            if (ku.IntValue != expected) f.Add($"keyUsage must be exactly {string.Join(", ", profile.KeyUsage.Usages)}.");
        }

        var ekuExt = ext.GetExtension(X509Extensions.ExtendedKeyUsage);
        if (profile.ExtendedKeyUsage.Count == 0 && ekuExt != null) f.Add("extendedKeyUsage is not part of the profile.");
        if (profile.ExtendedKeyUsage.Count > 0)
        {
            if (ekuExt == null) f.Add($"extendedKeyUsage {string.Join(", ", profile.ExtendedKeyUsage)} is missing.");
            else
            {
                var eku = ExtendedKeyUsage.GetInstance(ekuExt.GetParsedValue());
                foreach (var name in profile.ExtendedKeyUsage)
                    if (!eku.HasKeyPurposeId(ExtendedKeyUsageOid(name))) f.Add($"extendedKeyUsage lacks {name}.");
            }
        }

        var skiExt = ext.GetExtension(X509Extensions.SubjectKeyIdentifier);
        if (skiExt == null) f.Add("subjectKeyIdentifier is missing (RFC 5280 §4.2.1.2).");
        else if (skiExt.IsCritical) f.Add("subjectKeyIdentifier must not be critical.");

        var akiExt = ext.GetExtension(X509Extensions.AuthorityKeyIdentifier);
        if (profile.Kind != ProfileKind.Root)
        {
            if (akiExt == null) f.Add("authorityKeyIdentifier is missing (RFC 5280 §4.2.1.1).");
            else
            {
                if (akiExt.IsCritical) f.Add("authorityKeyIdentifier must not be critical.");
                var aki = AuthorityKeyIdentifier.GetInstance(akiExt.GetParsedValue());
                if (issuerKeyId != null && !(aki.KeyIdentifier?.GetOctets() ?? []).AsSpan().SequenceEqual(issuerKeyId)) f.Add("authorityKeyIdentifier differs from the issuer's key identifier.");
            }
        }

        if (profile.AuthorityInfoAccess != (ext.GetExtension(X509Extensions.AuthorityInfoAccess) != null))
            f.Add(profile.AuthorityInfoAccess ? "authorityInfoAccess (OCSP, caIssuers) is missing." : "authorityInfoAccess is not part of the profile.");
        if (profile.CrlDistributionPoint != (ext.GetExtension(X509Extensions.CrlDistributionPoints) != null))
            f.Add(profile.CrlDistributionPoint ? "cRLDistributionPoints is missing." : "cRLDistributionPoints is not part of the profile.");
        if (profile.OcspNoCheck != (ext.GetExtension(OcspNoCheckOid) != null))
            f.Add(profile.OcspNoCheck ? "id-pkix-ocsp-nocheck is missing (RFC 6960 §4.2.2.2.1)." : "id-pkix-ocsp-nocheck is not part of the profile.");
    }

    public static readonly DerObjectIdentifier OcspNoCheckOid = new("1.3.6.1.5.5.7.48.1.5");
}
