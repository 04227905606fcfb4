using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.X509;

/// <summary>Reading and writing subject names with the short attribute names the profiles use (CN, O, OU, C, L, ST, DC).</summary>
public static class DistinguishedNames
{
    private static readonly Dictionary<string, DerObjectIdentifier> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CN"] = X509Name.CN, ["O"] = X509Name.O, ["OU"] = X509Name.OU, ["C"] = X509Name.C,
        ["L"] = X509Name.L, ["ST"] = X509Name.ST, ["DC"] = X509Name.DC, ["E"] = X509Name.EmailAddress,
        ["emailAddress"] = X509Name.EmailAddress, ["SERIALNUMBER"] = X509Name.SerialNumber,
    };

    public static string ShortName(DerObjectIdentifier oid)
    {
        foreach (var kv in ByName) if (kv.Value.Equals(oid)) return kv.Key == "emailAddress" ? "E" : kv.Key;
        return oid.Id;
    }

    /// <summary>Parses "CN=x,O=y,DC=MO" (RFC 4514 order as written, first is outermost).</summary>
    public static X509Name Parse(string text)
    {
        try { return new X509Name(text); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new PkiException(PkiError.SubjectRuleViolated, $"'{text}' is not a distinguished name: {e.Message}", e);
        }
    }

    /// <summary>The attributes in encoding order, as (short name, value, ASN.1 string type).</summary>
    public static IReadOnlyList<(string Name, string Value, Asn1Object Encoded, int RdnSize)> Attributes(X509Name name)
    {
        var list = new List<(string, string, Asn1Object, int)>();
        foreach (var rdnObj in Asn1Sequence.GetInstance(name.ToAsn1Object()))
        {
            var rdn = Asn1Set.GetInstance(rdnObj);
            foreach (var atvObj in rdn)
            {
                var atv = Asn1Sequence.GetInstance(atvObj);
                var oid = DerObjectIdentifier.GetInstance(atv[0]);
                var value = atv[1].ToAsn1Object();
                list.Add((ShortName(oid), value is IAsn1String s ? s.GetString() : value.ToString() ?? "", value, rdn.Count));
            }
        }
        return list;
    }

    /// <summary>
    /// Re-encodes a requested name the way we write names (strict writing): DC as IA5String, C as PrintableString,
    /// everything else UTF8String, one attribute per RDN, in the order given.
    /// </summary>
    public static X509Name Canonicalize(X509Name name)
    {
        var oids = new List<DerObjectIdentifier>();
        var values = new List<string>();
        foreach (var rdnObj in Asn1Sequence.GetInstance(name.ToAsn1Object()))
            foreach (var atvObj in Asn1Set.GetInstance(rdnObj))
            {
                var atv = Asn1Sequence.GetInstance(atvObj);
                var value = atv[1].ToAsn1Object();
                if (value is not IAsn1String s) throw new PkiException(PkiError.SubjectRuleViolated, "Subject attributes must be strings.");
                oids.Add(DerObjectIdentifier.GetInstance(atv[0]));
                values.Add(s.GetString());
            }
        return new X509Name(oids, values);
    }

    public static string? CommonName(X509Name name)
    {
        var values = name.GetValueList(X509Name.CN);
        return values.Count > 0 ? values[0] : null;
    }

    public static string ToText(X509Name name) => name.ToString();
}
