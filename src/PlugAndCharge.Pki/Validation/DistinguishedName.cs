using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// A name reduced to the form RFC 5280 §7.1 compares: attribute values of string types after RFC 4518-style preparation
/// (insignificant spaces removed, case folded), whatever string type encoded them; other values by their DER.
/// Multi-valued RDNs are compared as sets.
/// </summary>
internal sealed class DistinguishedName
{
    private static readonly string[] NoRdns = [];

    private DistinguishedName(string key, string[] rdns, List<string> commonNames, List<string> emailAddresses)
    {
        Key = key;
        Rdns = rdns;
        CommonNames = commonNames;
        EmailAddresses = emailAddresses;
    }

    /// <summary>Comparison key of the whole name; equal keys mean matching names.</summary>
    public string Key { get; }

    /// <summary>Comparison keys of the RDNs in order, for subtree (prefix) matching of directoryName constraints.</summary>
    public string[] Rdns { get; }

    public bool IsEmpty => Rdns.Length == 0;

    /// <summary>The raw values of the commonName attributes, for CN checks of the WebPki profile.</summary>
    public List<string> CommonNames { get; }

    /// <summary>Legacy emailAddress attributes, which rfc822Name constraints also govern (RFC 5280 §4.2.1.10).</summary>
    public List<string> EmailAddresses { get; }

    public static DistinguishedName Create(X509Name name)
    {
        var sequence = Asn1Sequence.GetInstance(name.ToAsn1Object());
        if (sequence.Count == 0)
        {
            return new DistinguishedName(string.Empty, NoRdns, [], []);
        }

        var rdns = new string[sequence.Count];
        var commonNames = new List<string>(1);
        var emails = new List<string>(0);
        var whole = new StringBuilder();
        for (var i = 0; i < sequence.Count; i++)
        {
            var set = Asn1Set.GetInstance(sequence[i]);
            string rdn;
            if (set.Count == 1)
            {
                rdn = AttributeKey(set[0], commonNames, emails);
            }
            else
            {
                var parts = new string[set.Count];
                for (var j = 0; j < set.Count; j++)
                {
                    parts[j] = AttributeKey(set[j], commonNames, emails);
                }

                Array.Sort(parts, StringComparer.Ordinal);
                rdn = string.Join('\u001f', parts);
            }

            rdns[i] = rdn;
            whole.Append(rdn.Length).Append(':').Append(rdn);
        }

        return new DistinguishedName(whole.ToString(), rdns, commonNames, emails);
    }

    private static string AttributeKey(Asn1Encodable element, List<string> commonNames, List<string> emails)
    {
        var attribute = Asn1Sequence.GetInstance(element);
        var type = DerObjectIdentifier.GetInstance(attribute[0]);
        var value = attribute[1];
        string normalized;
        if (value is IAsn1String text && value is not DerBitString)
        {
            var raw = text.GetString();
            if (type.Equals(X509Name.CN))
            {
                commonNames.Add(raw);
            }
            else if (type.Equals(X509Name.EmailAddress))
            {
                emails.Add(raw);
            }

            normalized = Prepare(raw);
        }
        else
        {
            normalized = "#" + Convert.ToHexString(value.ToAsn1Object().GetEncoded(Asn1Encodable.Der));
        }

        return type.Id + "=" + normalized;
    }

    /// <summary>Removes leading, trailing and repeated inner spaces and folds case (RFC 4518 §2.6, §2.3 in spirit).</summary>
    private static string Prepare(string value)
    {
        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(char.ToUpperInvariant(c));
        }

        return builder.ToString();
    }
}
