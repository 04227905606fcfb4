using System.Text;
using System.Xml;

namespace PlugAndCharge.Exi;

/// <summary>Converts the model to and from XML text (values in their canonical lexical form).</summary>
public static class ExiXml
{
    private const string XsiNs = "http://www.w3.org/2001/XMLSchema-instance";
    private const string XmlNs = "http://www.w3.org/XML/1998/namespace";

    private static readonly Dictionary<string, string> WellKnownPrefixes = new(StringComparer.Ordinal)
    {
        ["http://www.w3.org/2000/09/xmldsig#"] = "ds",
        [XsiNs] = "xsi",
        ["urn:iso:15118:2:2013:MsgDef"] = "v2gci_d",
        ["urn:iso:15118:2:2013:MsgHeader"] = "v2gci_h",
        ["urn:iso:15118:2:2013:MsgBody"] = "v2gci_b",
        ["urn:iso:15118:2:2013:MsgDataTypes"] = "v2gci_t",
        ["urn:iso:15118:2:2010:AppProtocol"] = "app",
        ["urn:din:70121:2012:MsgDef"] = "din_d",
        ["urn:din:70121:2012:MsgHeader"] = "din_h",
        ["urn:din:70121:2012:MsgBody"] = "din_b",
        ["urn:din:70121:2012:MsgDataTypes"] = "din_t",
        ["urn:iso:std:iso:15118:-20:CommonMessages"] = "cm",
        ["urn:iso:std:iso:15118:-20:CommonTypes"] = "ct",
        ["urn:iso:std:iso:15118:-20:AC"] = "ac",
        ["urn:iso:std:iso:15118:-20:DC"] = "dc",
        ["urn:iso:std:iso:15118:-20:ACDP"] = "acdp",
        ["urn:iso:std:iso:15118:-20:WPT"] = "wpt",
    };

    /// <summary>Serializes an element tree as XML; namespaces are declared once on the root.</summary>
    public static string ToXml(ExiElement root, bool indent = false)
    {
        ArgumentNullException.ThrowIfNull(root);
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        CollectNamespaces(root, prefixes);
        var sb = new StringBuilder();
        // EXI strings may hold any code point; characters XML 1.0 cannot carry are written as character references.
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Indent = indent, NewLineHandling = NewLineHandling.Entitize, CheckCharacters = false };
        using (var w = XmlWriter.Create(sb, settings))
        {
            Write(w, root, prefixes, isRoot: true);
        }
        return sb.ToString();
    }

    private static void CollectNamespaces(ExiElement e, Dictionary<string, string> prefixes)
    {
        void Add(string ns)
        {
            if (ns.Length == 0 || ns == XmlNs || prefixes.ContainsKey(ns)) return;
            string p = WellKnownPrefixes.TryGetValue(ns, out var wk) && !prefixes.ContainsValue(wk) ? wk : "ns" + (prefixes.Count + 1);
            prefixes[ns] = p;
        }
        Add(e.Name.Namespace);
        if (e.XsiType != null || e.XsiNil != null) Add(XsiNs);
        if (e.XsiType is { } t) Add(t.Namespace);
        if (e.HasAttributes)
            foreach (var a in e.Attributes) Add(a.Name.Namespace);
        if (e.HasChildren)
            foreach (var c in e.Children)
                if (c is ExiElement ce) CollectNamespaces(ce, prefixes);
    }

    private static void Write(XmlWriter w, ExiElement e, Dictionary<string, string> prefixes, bool isRoot)
    {
        string ns = e.Name.Namespace;
        if (ns.Length == 0) w.WriteStartElement(e.Name.LocalName);
        else if (ns == XmlNs) w.WriteStartElement("xml", e.Name.LocalName, XmlNs);
        else w.WriteStartElement(prefixes[ns], e.Name.LocalName, ns);
        if (isRoot)
            foreach (var (uri, prefix) in prefixes)
                if (uri != ns || prefix.Length == 0) w.WriteAttributeString("xmlns", prefix, null, uri);
        if (e.XsiType is { } t)
            w.WriteAttributeString("xsi", "type", XsiNs, t.Namespace.Length == 0 ? t.LocalName : prefixes[t.Namespace] + ":" + t.LocalName);
        if (e.XsiNil is { } nil) w.WriteAttributeString("xsi", "nil", XsiNs, nil ? "true" : "false");
        if (e.HasAttributes)
        {
            foreach (var a in e.Attributes)
            {
                if (a.Name.Namespace.Length == 0) w.WriteAttributeString(a.Name.LocalName, a.Value.ToString());
                else if (a.Name.Namespace == XmlNs) w.WriteAttributeString("xml", a.Name.LocalName, XmlNs, a.Value.ToString());
                else w.WriteAttributeString(prefixes[a.Name.Namespace], a.Name.LocalName, a.Name.Namespace, a.Value.ToString());
            }
        }
        if (!e.Value.IsNone)
        {
            string text = e.Value.ToString();
            if (text.Length > 0) w.WriteString(text);
        }
        if (e.HasChildren)
        {
            foreach (var c in e.Children)
            {
                if (c is ExiElement ce) Write(w, ce, prefixes, false);
                else if (c is ExiText tx) w.WriteString(tx.Text);
            }
        }
        w.WriteEndElement();
    }

    /// <summary>
    /// Parses XML text into the model. Values stay lexical strings (converted to their schema types when encoded);
    /// text of an element without child elements becomes its value, text between child elements becomes text nodes.
    /// </summary>
    public static ExiElement Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true, IgnoreProcessingInstructions = true, CheckCharacters = false };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        return Parse(reader);
    }

    public static ExiElement Parse(XmlReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var stack = new Stack<(ExiElement El, StringBuilder Text, bool HasElements)>();
        ExiElement? root = null;
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                {
                    var el = new ExiElement(new QName(reader.NamespaceURI, reader.LocalName));
                    if (stack.Count > 0)
                    {
                        var top = stack.Pop();
                        FlushText(top.El, top.Text);
                        top.El.Children.Add(el);
                        stack.Push((top.El, top.Text, true));
                    }
                    else root = el;
                    if (reader.MoveToFirstAttribute())
                    {
                        do
                        {
                            if (reader.NamespaceURI == "http://www.w3.org/2000/xmlns/") continue;
                            if (reader.NamespaceURI == XsiNs && reader.LocalName == "type")
                            {
                                string v = reader.Value.Trim();
                                int colon = v.IndexOf(':', StringComparison.Ordinal);
                                string prefix = colon < 0 ? "" : v[..colon];
                                string ns = reader.LookupNamespace(prefix) ?? "";
                                el.XsiType = new QName(ns, colon < 0 ? v : v[(colon + 1)..]);
                            }
                            else if (reader.NamespaceURI == XsiNs && reader.LocalName == "nil")
                            {
                                el.XsiNil = Values.ParseBoolean(reader.Value) ?? throw new XmlException("xsi:nil must be true or false");
                            }
                            else el.Attributes.Add(new ExiAttribute(new QName(reader.NamespaceURI, reader.LocalName), ExiValue.FromString(reader.Value)));
                        }
                        while (reader.MoveToNextAttribute());
                        reader.MoveToElement();
                    }
                    if (reader.IsEmptyElement) break;
                    stack.Push((el, new StringBuilder(), false));
                    break;
                }
                case XmlNodeType.Text:
                case XmlNodeType.CDATA:
                case XmlNodeType.Whitespace:
                case XmlNodeType.SignificantWhitespace:
                    if (stack.Count > 0) stack.Peek().Text.Append(reader.Value);
                    break;
                case XmlNodeType.EndElement:
                {
                    var (el, text, hasElements) = stack.Pop();
                    if (hasElements) FlushText(el, text);
                    else if (text.Length > 0) el.Value = ExiValue.FromString(text.ToString());
                    break;
                }
            }
        }
        return root ?? throw new XmlException("no root element");
    }

    private static void FlushText(ExiElement el, StringBuilder text)
    {
        if (text.Length == 0) return;
        el.Children.Add(new ExiText(text.ToString()));
        text.Clear();
    }
}
