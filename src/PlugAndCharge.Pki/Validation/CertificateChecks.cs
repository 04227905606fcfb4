using System.Net;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Checks that concern one certificate on its own: validity, criticality, the RFC 5280 §4 profile and the role it plays in
/// the path. Path-wide rules (pathLen, name constraints, revocation) live in <see cref="PathPolicy"/>.
/// </summary>
internal static class CertificateChecks
{
    /// <summary>RFC 5280 §4.1.2.5: valid from notBefore through notAfter, inclusive, at one-second granularity.</summary>
    public static Failure? Validity(CertificateView view, DateTime at, int index)
    {
        // notAfter first: a certificate whose window is inverted has expired for every time after its notAfter.
        if (at > view.NotAfter)
        {
            return new Failure(ChainFailureReason.Expired, $"expired at {view.NotAfter:u}", index);
        }

        if (at < view.NotBefore)
        {
            return new Failure(ChainFailureReason.NotYetValid, $"not valid before {view.NotBefore:u}", index);
        }

        return null;
    }

    /// <summary>Everything about the certificate itself, in the order a caller most needs to hear about it.</summary>
    public static Failure? Standalone(CertificateView view, CertificateRole role, ConformanceProfile profile, DateTime at, int index)
    {
        if (view.Malformed is not null)
        {
            return new Failure(ChainFailureReason.Malformed, view.Malformed, index);
        }

        return Validity(view, at, index)
               ?? Critical(view, index)
               ?? Rfc5280Profile(view, role, profile, index)
               ?? (profile == ConformanceProfile.WebPki ? WebPkiProfile(view, role, index) : null)
               ?? Key(view, index);
    }

    /// <summary>RFC 5280 §6.1.4 (k), (n) and §4.2.1.9: what a certificate needs to sign other certificates.</summary>
    public static Failure? AsIssuer(CertificateView view, CertificateRole role, int index)
    {
        if (view.Version < 3)
        {
            // A v1/v2 certificate has no basicConstraints; a trust anchor is a CA by being trusted out of band (§6.1.4 (k)).
            return role == CertificateRole.Anchor
                ? null
                : new Failure(ChainFailureReason.BasicConstraints, "version " + view.Version + " certificate cannot be an intermediate CA", index);
        }

        if (!view.HasBasicConstraints || !view.IsCa)
        {
            return new Failure(ChainFailureReason.BasicConstraints, "issuer is not a CA (basicConstraints cA not asserted)", index);
        }

        if (!view.BasicConstraintsCritical)
        {
            return new Failure(ChainFailureReason.BasicConstraints, "CA basicConstraints must be critical (RFC 5280 §4.2.1.9)", index);
        }

        if (!view.AllowsKeyUsage(KeyUsageBits.KeyCertSign))
        {
            return new Failure(ChainFailureReason.KeyUsage, "issuer keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))", index);
        }

        return null;
    }

    private static Failure? Critical(CertificateView view, int index)
    {
        if (view.UnknownCriticalExtension is not null)
        {
            return new Failure(ChainFailureReason.UnknownCriticalExtension, "unprocessed critical extension " + view.UnknownCriticalExtension, index);
        }

        return null;
    }

    private static Failure? Rfc5280Profile(CertificateView view, CertificateRole role, ConformanceProfile profile, int index)
    {
        static Failure Bad(string detail, int index) => new(ChainFailureReason.Malformed, detail, index);

        if (view.SignatureAlgorithmMismatch)
        {
            return Bad("signatureAlgorithm differs from tbsCertificate.signature (RFC 5280 §4.1.1.2)", index);
        }

        if (view.Issuer.IsEmpty)
        {
            return Bad("empty issuer name (RFC 5280 §4.1.2.4)", index);
        }

        if (view.IsCa && view.Subject.IsEmpty)
        {
            return Bad("CA with an empty subject name (RFC 5280 §4.1.2.6)", index);
        }

        if (view.SubjectKeyIdCritical)
        {
            return Bad("subjectKeyIdentifier must not be critical (RFC 5280 §4.2.1.2)", index);
        }

        if (view.AuthorityKeyIdCritical)
        {
            return Bad("authorityKeyIdentifier must not be critical (RFC 5280 §4.2.1.1)", index);
        }

        if (view.Version == 3)
        {
            // Self-signed certificates may omit the AKI; every other v3 certificate carries its keyIdentifier (§4.2.1.1).
            // A trust anchor is exempt: it is trusted out of band (§6.1.1 (d)), whoever else certified its key.
            if (view.AuthorityKeyId is null && !view.IsSelfIssued && role != CertificateRole.Anchor)
            {
                return Bad("authorityKeyIdentifier keyIdentifier is missing (RFC 5280 §4.2.1.1)", index);
            }

            if (view.IsCa && view.SubjectKeyId is null)
            {
                return Bad("CA certificate without subjectKeyIdentifier (RFC 5280 §4.2.1.2)", index);
            }
        }

        if (view.KeyUsage is { } usage && (usage & KeyUsageBits.KeyCertSign) != 0 && !view.IsCa)
        {
            return new Failure(ChainFailureReason.KeyUsage, "keyCertSign without basicConstraints cA (RFC 5280 §4.2.1.3)", index);
        }

        if (view.PathLength is not null && (!view.IsCa || !view.AllowsKeyUsage(KeyUsageBits.KeyCertSign)))
        {
            return new Failure(ChainFailureReason.BasicConstraints, "pathLenConstraint without cA and keyCertSign (RFC 5280 §4.2.1.9)", index);
        }

        if (view.HasNameConstraints)
        {
            if (!view.IsCa)
            {
                return new Failure(ChainFailureReason.NameConstraints, "nameConstraints in a non-CA certificate (RFC 5280 §4.2.1.10)", index);
            }

            if (view.NameConstraintsError is not null)
            {
                return new Failure(ChainFailureReason.NameConstraints, view.NameConstraintsError, index);
            }

            // The Baseline Requirements allow a non-critical nameConstraints; RFC 5280 does not.
            if (!view.NameConstraintsCritical && profile == ConformanceProfile.Rfc5280)
            {
                return new Failure(ChainFailureReason.NameConstraints, "nameConstraints must be critical (RFC 5280 §4.2.1.10)", index);
            }
        }

        if (view.Subject.IsEmpty && role == CertificateRole.Leaf && (!view.HasSubjectAltName || !view.SubjectAltNameCritical))
        {
            return Bad("empty subject requires a critical subjectAltName (RFC 5280 §4.2.1.6)", index);
        }

        if (view.AuthorityInfoAccessCritical)
        {
            return Bad("authorityInfoAccess must not be critical (RFC 5280 §4.2.2.1)", index);
        }

        if (view.HasPolicyConstraints && !view.PolicyConstraintsCritical)
        {
            return Bad("policyConstraints must be critical (RFC 5280 §4.2.1.11)", index);
        }

        return null;
    }

    /// <summary>The CA/Browser Forum Baseline Requirements rules that webpki and x509-limbo apply.</summary>
    private static Failure? WebPkiProfile(CertificateView view, CertificateRole role, int index)
    {
        static Failure Bad(string detail, int index) => new(ChainFailureReason.PolicyViolation, detail, index);

        if (role != CertificateRole.Anchor && view.Version != 3)
        {
            return Bad("certificates must be X.509 v3 (BR 7.1.1)", index);
        }

        if (role == CertificateRole.Anchor)
        {
            if (view.IsSelfIssued && view.HasAuthorityKeyId &&
                (view.AuthorityKeyId is null || view.AuthorityKeyIdHasIssuerOrSerial || view.SubjectKeyId is null ||
                 !view.AuthorityKeyId.AsSpan().SequenceEqual(view.SubjectKeyId)))
            {
                return Bad("root authorityKeyIdentifier must hold only a keyIdentifier equal to the subjectKeyIdentifier (BR 7.1.2.1.3)", index);
            }

            if (view.ExtendedKeyUsages is not null)
            {
                return Bad("root certificates must not carry extendedKeyUsage (BR 7.1.2.1.2)", index);
            }

            return null;
        }

        if (role != CertificateRole.Leaf)
        {
            return null;
        }

        if (view.IsCa)
        {
            return new Failure(ChainFailureReason.BasicConstraints, "subscriber certificate with cA asserted (BR 7.1.2.7.8)", index);
        }

        if (view.HasSubjectAltName && view.SubjectAltNameCritical && !view.Subject.IsEmpty)
        {
            return Bad("subjectAltName must not be critical when the subject is not empty (BR 7.1.2.7.12)", index);
        }

        if (view.ExtendedKeyUsages is null)
        {
            return new Failure(ChainFailureReason.ExtendedKeyUsage, "subscriber certificate without extendedKeyUsage (BR 7.1.2.7.6)", index);
        }

        if (view.ExtendedKeyUsages.Contains(CertificateView.OidAnyExtendedKeyUsage))
        {
            return new Failure(ChainFailureReason.ExtendedKeyUsage, "subscriber certificate with anyExtendedKeyUsage (BR 7.1.2.7.10)", index);
        }

        if (view.ExtendedKeyUsageCritical)
        {
            return new Failure(ChainFailureReason.ExtendedKeyUsage, "extendedKeyUsage must not be critical (BR 7.1.2.7.6)", index);
        }

        foreach (var commonName in view.Subject.CommonNames)
        {
            if (!CommonNameInSubjectAltName(commonName, view.Names))
            {
                return Bad("subject CN '" + commonName + "' is not a copy of a subjectAltName entry (BR 7.1.4.3)", index);
            }
        }

        return null;
    }

    /// <summary>
    /// BR 7.1.4.3: the CN is a copy of a SAN entry. Applied where the comparison is meaningful: a CN that reads as an IP
    /// address (in any notation) must be the RFC 3986 / RFC 5952 text of an iPAddress entry; a host-name CN must be a
    /// verbatim copy of one of the plain (non-wildcard) dNSName entries, when there are any. A leaf named only by IP
    /// addresses or wildcards may keep a descriptive CN, as the x509-limbo corpus expects.
    /// </summary>
    private static bool CommonNameInSubjectAltName(string commonName, CertificateNames names)
    {
        if (LooksLikeIpAddress(commonName))
        {
            foreach (var ip in names.IpAddresses)
            {
                if (ip.Length is 4 or 16 && string.Equals(new IPAddress(ip).ToString(), commonName, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        var plainNames = 0;
        foreach (var dns in names.DnsNames)
        {
            if (string.Equals(dns, commonName, StringComparison.Ordinal))
            {
                return true;
            }

            if (!dns.StartsWith("*.", StringComparison.Ordinal))
            {
                plainNames++;
            }
        }

        return plainNames == 0;
    }

    /// <summary>Any textual IP notation, canonical or not (hex, leading zeros, upper case, uncompressed IPv6).</summary>
    private static bool LooksLikeIpAddress(string value)
    {
        if (IPAddress.TryParse(value, out _) || value.Contains(':', StringComparison.Ordinal))
        {
            return true;
        }

        var digits = false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiHexDigit(c) || c is '.' or 'x' or 'X'))
            {
                return false;
            }

            digits |= char.IsAsciiDigit(c);
        }

        return digits;
    }

    private static Failure? Key(CertificateView view, int index)
    {
        string? violation;
        try
        {
            violation = KeyPolicy.Check(view.PublicKeyInfo);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or InvalidOperationException)
        {
            violation = "public key cannot be parsed: " + e.Message;
        }

        return violation is null ? null : new Failure(ChainFailureReason.UnsupportedAlgorithm, violation, index);
    }
}
