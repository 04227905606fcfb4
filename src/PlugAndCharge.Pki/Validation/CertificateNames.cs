using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// The names a certificate asserts, sorted by GeneralName form, as name constraints and peer-name matching need them:
/// subjectAltName entries plus the subject DN and its legacy emailAddress attributes (RFC 5280 §4.2.1.10).
/// </summary>
internal sealed class CertificateNames
{
    public List<string> DnsNames { get; } = [];

    public List<byte[]> IpAddresses { get; } = [];

    public List<string> Emails { get; } = [];

    /// <summary>directoryName SAN entries; the subject DN is handled by the caller.</summary>
    public List<DistinguishedName> DirectoryNames { get; } = [];

    /// <summary>GeneralName forms present that the validator does not interpret (otherName, URI, ...), by tag.</summary>
    public int OtherFormsMask { get; private set; }

    /// <summary>First syntactically invalid name, if any: such a name can never be shown to lie inside a subtree.</summary>
    public string? InvalidName { get; private set; }

    public int Count => DnsNames.Count + IpAddresses.Count + Emails.Count + DirectoryNames.Count;

    public static CertificateNames FromSubjectAltName(GeneralName[] names)
    {
        var result = new CertificateNames();
        foreach (var name in names)
        {
            switch (name.TagNo)
            {
                case GeneralName.DnsName:
                    var dns = IA5(name.Name);
                    result.DnsNames.Add(dns);
                    if (!DnsNameRules.IsValidPresented(dns))
                    {
                        result.InvalidName ??= "dNSName '" + dns + "'";
                    }

                    break;
                case GeneralName.IPAddress:
                    var ip = Asn1OctetString.GetInstance(name.Name).GetOctets();
                    result.IpAddresses.Add(ip);
                    if (ip.Length is not (4 or 16))
                    {
                        result.InvalidName ??= "iPAddress of " + ip.Length + " bytes";
                    }

                    break;
                case GeneralName.Rfc822Name:
                    var email = IA5(name.Name);
                    result.Emails.Add(email);
                    if (!EmailNames.IsValidMailbox(email))
                    {
                        result.InvalidName ??= "rfc822Name '" + email + "'";
                    }

                    break;
                case GeneralName.DirectoryName:
                    result.DirectoryNames.Add(DistinguishedName.Create(X509Name.GetInstance(name.Name)));
                    break;
                default:
                    result.OtherFormsMask |= 1 << name.TagNo;
                    break;
            }
        }

        return result;
    }

    private static string IA5(Asn1Encodable value)
    {
        var text = DerIA5String.GetInstance(value).GetString();
        foreach (var c in text)
        {
            // IA5String is ASCII (RFC 5280 §7.2): internationalized names must be stored as A-labels.
            if (c > 0x7F)
            {
                return "\uFFFD" + text;
            }
        }

        return text;
    }
}
