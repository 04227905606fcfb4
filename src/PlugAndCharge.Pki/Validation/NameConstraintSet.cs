using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// A parsed nameConstraints extension (RFC 5280 §4.2.1.10) and the check of one certificate's names against it. Forms the
/// validator interprets: dNSName, iPAddress, rfc822Name, directoryName. A constraint of another form that meets a name of
/// that form rejects the certificate, as the RFC demands of names an implementation cannot process.
/// </summary>
internal sealed class NameConstraintSet
{
    private readonly List<Subtree> _permitted = [];
    private readonly List<Subtree> _excluded = [];
    private int _permittedFormsMask;
    private int _constrainedFormsMask;

    private NameConstraintSet()
    {
    }

    public int SubtreeCount => _permitted.Count + _excluded.Count;

    /// <summary>Parses and checks the constraint syntax; returns null and an error for an unusable extension.</summary>
    public static NameConstraintSet? Parse(Asn1Object value, out string? error)
    {
        error = null;
        var sequence = Asn1Sequence.GetInstance(value);
        var set = new NameConstraintSet();
        foreach (var element in sequence)
        {
            var tagged = Asn1TaggedObject.GetInstance(element);
            var subtrees = Asn1Sequence.GetInstance(tagged, false);
            if (subtrees.Count == 0)
            {
                // GeneralSubtrees ::= SEQUENCE SIZE (1..MAX)
                error = "empty GeneralSubtrees";
                return null;
            }

            var target = tagged.TagNo switch
            {
                0 => set._permitted,
                1 => set._excluded,
                _ => null,
            };
            if (target is null)
            {
                error = "unknown nameConstraints field";
                return null;
            }

            foreach (var item in subtrees)
            {
                var subtree = GeneralSubtree.GetInstance(item);
                if ((subtree.MinimumObject is { } minimum && minimum.Value.SignValue != 0) || subtree.MaximumObject is not null)
                {
                    // "Within this profile, the minimum and maximum fields are not used" (§4.2.1.10).
                    error = "minimum/maximum in a GeneralSubtree";
                    return null;
                }

                var parsed = Subtree.Create(subtree.Base, out error);
                if (parsed is null)
                {
                    return null;
                }

                target.Add(parsed);
                set._constrainedFormsMask |= 1 << parsed.Form;
                if (tagged.TagNo == 0)
                {
                    set._permittedFormsMask |= 1 << parsed.Form;
                }
            }
        }

        if (set.SubtreeCount == 0)
        {
            // "Conforming CAs MUST NOT issue certificates where name constraints is an empty sequence."
            error = "nameConstraints without permitted or excluded subtrees";
            return null;
        }

        return set;
    }

    /// <summary>Returns a violation text, or null when every name of the certificate is allowed.</summary>
    public string? Check(DistinguishedName subject, CertificateNames names)
    {
        if ((names.OtherFormsMask & _constrainedFormsMask) != 0)
        {
            return "a name of a form the validator cannot process meets a constraint of that form";
        }

        if (names.InvalidName is not null && (_constrainedFormsMask & FormsOfInvalid()) != 0)
        {
            return "malformed name " + names.InvalidName + " cannot be checked against the constraints";
        }

        foreach (var dns in names.DnsNames)
        {
            var violation = CheckDns(dns);
            if (violation is not null)
            {
                return violation;
            }
        }

        foreach (var ip in names.IpAddresses)
        {
            if (!Allowed(GeneralName.IPAddress, s => s.MatchesIp(ip)))
            {
                return "iPAddress " + new System.Net.IPAddress(ip) + " is not allowed";
            }
        }

        foreach (var email in names.Emails)
        {
            if (!Allowed(GeneralName.Rfc822Name, s => EmailNames.IsWithin(email, s.Text!)))
            {
                return "rfc822Name " + email + " is not allowed";
            }
        }

        foreach (var email in subject.EmailAddresses)
        {
            if (!EmailNames.IsValidMailbox(email) && (_constrainedFormsMask & (1 << GeneralName.Rfc822Name)) != 0)
            {
                return "malformed emailAddress " + email;
            }

            if (EmailNames.IsValidMailbox(email) && !Allowed(GeneralName.Rfc822Name, s => EmailNames.IsWithin(email, s.Text!)))
            {
                return "emailAddress " + email + " is not allowed";
            }
        }

        // directoryName constraints apply to a non-empty subject and to directoryName SAN entries.
        if (!subject.IsEmpty && !Allowed(GeneralName.DirectoryName, s => s.MatchesDirectory(subject)))
        {
            return "subject DN is not allowed";
        }

        foreach (var directory in names.DirectoryNames)
        {
            if (!Allowed(GeneralName.DirectoryName, s => s.MatchesDirectory(directory)))
            {
                return "directoryName is not allowed";
            }
        }

        return null;

        static int FormsOfInvalid() => (1 << GeneralName.DnsName) | (1 << GeneralName.IPAddress) | (1 << GeneralName.Rfc822Name);
    }

    private string? CheckDns(string dns)
    {
        var wildcard = dns.StartsWith("*.", StringComparison.Ordinal);
        foreach (var excluded in _excluded)
        {
            if (excluded.Form == GeneralName.DnsName &&
                (wildcard ? DnsNameRules.WildcardMayReach(dns, excluded.Text!) : DnsNameRules.IsWithin(dns, excluded.Text!)))
            {
                return "dNSName " + dns + " is inside excluded subtree " + excluded.Text;
            }
        }

        if ((_permittedFormsMask & (1 << GeneralName.DnsName)) == 0)
        {
            return null;
        }

        foreach (var permitted in _permitted)
        {
            if (permitted.Form == GeneralName.DnsName &&
                (wildcard ? DnsNameRules.WildcardIsWithin(dns, permitted.Text!) : DnsNameRules.IsWithin(dns, permitted.Text!)))
            {
                return null;
            }
        }

        return "dNSName " + dns + " is outside the permitted subtrees";
    }

    /// <summary>Excluded subtrees of the form win over permitted ones; without permitted subtrees of the form, all is permitted.</summary>
    private bool Allowed(int form, Func<Subtree, bool> matches)
    {
        foreach (var excluded in _excluded)
        {
            if (excluded.Form == form && matches(excluded))
            {
                return false;
            }
        }

        if ((_permittedFormsMask & (1 << form)) == 0)
        {
            return true;
        }

        foreach (var permitted in _permitted)
        {
            if (permitted.Form == form && matches(permitted))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class Subtree
    {
        private Subtree(int form)
        {
            Form = form;
        }

        public int Form { get; }

        public string? Text { get; private init; }

        private byte[]? Network { get; init; }

        private byte[]? Mask { get; init; }

        private DistinguishedName? Directory { get; init; }

        public static Subtree? Create(GeneralName name, out string? error)
        {
            error = null;
            switch (name.TagNo)
            {
                case GeneralName.DnsName:
                    var dns = DerIA5String.GetInstance(name.Name).GetString();
                    if (!DnsNameRules.IsValidHostName(dns))
                    {
                        // Wildcards and leading periods are not DNS constraint syntax (only URI constraints allow ".host").
                        error = "invalid dNSName constraint '" + dns + "'";
                        return null;
                    }

                    return new Subtree(name.TagNo) { Text = dns };
                case GeneralName.Rfc822Name:
                    var email = DerIA5String.GetInstance(name.Name).GetString();
                    if (!EmailNames.IsValidConstraint(email))
                    {
                        error = "invalid rfc822Name constraint '" + email + "'";
                        return null;
                    }

                    return new Subtree(name.TagNo) { Text = email };
                case GeneralName.IPAddress:
                    var bytes = Asn1OctetString.GetInstance(name.Name).GetOctets();
                    if (bytes.Length is not (8 or 32) || !IsContiguousMask(bytes.AsSpan(bytes.Length / 2)))
                    {
                        error = "iPAddress constraint is not an address and a CIDR mask";
                        return null;
                    }

                    return new Subtree(name.TagNo) { Network = bytes[..(bytes.Length / 2)], Mask = bytes[(bytes.Length / 2)..] };
                case GeneralName.DirectoryName:
                    return new Subtree(name.TagNo) { Directory = DistinguishedName.Create(X509Name.GetInstance(name.Name)) };
                default:
                    return new Subtree(name.TagNo);
            }
        }

        public bool MatchesIp(byte[] address)
        {
            if (address.Length != Network!.Length)
            {
                return false;
            }

            for (var i = 0; i < address.Length; i++)
            {
                if ((address[i] & Mask![i]) != (Network[i] & Mask[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public bool MatchesDirectory(DistinguishedName name)
        {
            var prefix = Directory!.Rdns;
            if (prefix.Length > name.Rdns.Length)
            {
                return false;
            }

            for (var i = 0; i < prefix.Length; i++)
            {
                if (!string.Equals(prefix[i], name.Rdns[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsContiguousMask(ReadOnlySpan<byte> mask)
        {
            var zeroSeen = false;
            foreach (var b in mask)
            {
                for (var bit = 7; bit >= 0; bit--)
                {
                    var set = (b & (1 << bit)) != 0;
                    if (set && zeroSeen)
                    {
                        return false;
                    }

                    zeroSeen |= !set;
                }
            }

            return true;
        }
    }
}
