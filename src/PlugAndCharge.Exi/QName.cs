namespace PlugAndCharge.Exi;

/// <summary>A qualified XML name: namespace URI (empty for none) and local name.</summary>
public readonly record struct QName(string Namespace, string LocalName) : IComparable<QName>
{
    public QName(string localName) : this(string.Empty, localName) { }

    /// <summary>EXI 1.0 orders qnames by local name first, then by URI (ordinal, i.e. by code point).</summary>
    public int CompareTo(QName other)
    {
        int c = string.CompareOrdinal(LocalName, other.LocalName);
        return c != 0 ? c : string.CompareOrdinal(Namespace, other.Namespace);
    }

    public override string ToString() => Namespace.Length == 0 ? LocalName : "{" + Namespace + "}" + LocalName;

    /// <summary>Parses "{uri}local" or "local".</summary>
    public static QName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('{'))
        {
            int end = text.IndexOf('}', StringComparison.Ordinal);
            if (end > 0) return new QName(text.Substring(1, end - 1), text[(end + 1)..]);
        }
        return new QName(string.Empty, text);
    }
}
