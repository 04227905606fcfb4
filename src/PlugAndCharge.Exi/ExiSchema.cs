using System.Collections.Concurrent;
using System.Xml;
using System.Xml.Schema;
using PlugAndCharge.Exi.Grammar;

namespace PlugAndCharge.Exi;

/// <summary>
/// One schema set (ISO 15118-2, -20, DIN 70121, the app handshake, xmldsig) and the EXI codec derived from it.
/// Grammars are built from the embedded XSDs on first use and cached for the process; instances are thread-safe.
/// </summary>
public sealed class ExiSchema
{
    private const string ResourcePrefix = "PlugAndCharge.Exi.Schemas/";
    private const string XmlDsig = "xmldsig-core-schema.xsd";

    private static readonly ConcurrentDictionary<ExiSchemaId, ExiSchema> Instances = new();

    private readonly string[] _files;
    private readonly Lazy<XmlSchemaSet> _set;
    private readonly Lazy<SchemaGrammar> _nonStrict;
    private readonly Lazy<SchemaGrammar> _strict;

    private ExiSchema(ExiSchemaId id, string name, string[] namespaces, string[] files)
    {
        Id = id;
        Name = name;
        Namespaces = namespaces;
        _files = files;
        _set = new Lazy<XmlSchemaSet>(LoadSchemaSet, LazyThreadSafetyMode.ExecutionAndPublication);
        _nonStrict = new Lazy<SchemaGrammar>(() => new GrammarBuilder(_set.Value, name, strict: false).Build(), LazyThreadSafetyMode.ExecutionAndPublication);
        _strict = new Lazy<SchemaGrammar>(() => new GrammarBuilder(_set.Value, name, strict: true).Build(), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ExiSchemaId Id { get; }

    /// <summary>Short name as the CLI spells it: iso2, iso20, iso20-ac, iso20-dc, iso20-acdp, iso20-wpt, din, apphand, xmldsig.</summary>
    public string Name { get; }

    /// <summary>Target namespaces specific to this schema set (used to recognise a document's schema).</summary>
    public IReadOnlyList<string> Namespaces { get; }

    public static ExiSchema Iso2 => Get(ExiSchemaId.Iso2);
    public static ExiSchema Iso20 => Get(ExiSchemaId.Iso20);
    public static ExiSchema Iso20Ac => Get(ExiSchemaId.Iso20Ac);
    public static ExiSchema Iso20Dc => Get(ExiSchemaId.Iso20Dc);
    public static ExiSchema Iso20Acdp => Get(ExiSchemaId.Iso20Acdp);
    public static ExiSchema Iso20Wpt => Get(ExiSchemaId.Iso20Wpt);
    public static ExiSchema Din => Get(ExiSchemaId.Din);
    public static ExiSchema AppHand => Get(ExiSchemaId.AppHand);
    public static ExiSchema XmlDsigSchema => Get(ExiSchemaId.XmlDsig);

    public static IReadOnlyList<ExiSchemaId> All { get; } = Enum.GetValues<ExiSchemaId>();

    public static ExiSchema Get(ExiSchemaId id) => Instances.GetOrAdd(id, Create);

    /// <summary>Looks a schema up by its CLI name (case-insensitive); null when unknown.</summary>
    public static ExiSchema? FromName(string name)
    {
        foreach (var id in All)
        {
            var s = Get(id);
            if (string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) return s;
        }
        return null;
    }

    /// <summary>The schema set whose own namespaces include <paramref name="ns"/> (xmldsig alone maps to <see cref="ExiSchemaId.XmlDsig"/>).</summary>
    public static ExiSchema? FromNamespace(string ns)
    {
        foreach (var id in All)
        {
            var s = Get(id);
            if (s.Namespaces.Contains(ns)) return s;
        }
        return null;
    }

    private static ExiSchema Create(ExiSchemaId id)
    {
        const string v2 = "iso15118_2/", v20 = "iso15118_20/", din = "din_spec/";
        return id switch
        {
            ExiSchemaId.Iso2 => new(id, "iso2",
                new[] { "urn:iso:15118:2:2013:MsgDef", "urn:iso:15118:2:2013:MsgHeader", "urn:iso:15118:2:2013:MsgBody", "urn:iso:15118:2:2013:MsgDataTypes" },
                new[] { v2 + "V2G_CI_MsgDef.xsd", v2 + "V2G_CI_MsgHeader.xsd", v2 + "V2G_CI_MsgBody.xsd", v2 + "V2G_CI_MsgDataTypes.xsd", XmlDsig }),
            ExiSchemaId.Iso20 => new(id, "iso20",
                new[] { "urn:iso:std:iso:15118:-20:CommonMessages", "urn:iso:std:iso:15118:-20:CommonTypes" },
                new[] { v20 + "V2G_CI_CommonMessages.xsd", v20 + "V2G_CI_CommonTypes.xsd", XmlDsig }),
            ExiSchemaId.Iso20Ac => new(id, "iso20-ac", new[] { "urn:iso:std:iso:15118:-20:AC" },
                new[] { v20 + "V2G_CI_AC.xsd", v20 + "V2G_CI_CommonTypes.xsd", XmlDsig }),
            ExiSchemaId.Iso20Dc => new(id, "iso20-dc", new[] { "urn:iso:std:iso:15118:-20:DC" },
                new[] { v20 + "V2G_CI_DC.xsd", v20 + "V2G_CI_CommonTypes.xsd", XmlDsig }),
            ExiSchemaId.Iso20Acdp => new(id, "iso20-acdp", new[] { "urn:iso:std:iso:15118:-20:ACDP" },
                new[] { v20 + "V2G_CI_ACDP.xsd", v20 + "V2G_CI_CommonTypes.xsd", XmlDsig }),
            ExiSchemaId.Iso20Wpt => new(id, "iso20-wpt", new[] { "urn:iso:std:iso:15118:-20:WPT" },
                new[] { v20 + "V2G_CI_WPT.xsd", v20 + "V2G_CI_CommonTypes.xsd", XmlDsig }),
            ExiSchemaId.Din => new(id, "din",
                new[] { "urn:din:70121:2012:MsgDef", "urn:din:70121:2012:MsgHeader", "urn:din:70121:2012:MsgBody", "urn:din:70121:2012:MsgDataTypes" },
                new[] { din + "V2G_CI_MsgDef.xsd", din + "V2G_CI_MsgHeader.xsd", din + "V2G_CI_MsgBody.xsd", din + "V2G_CI_MsgDataTypes.xsd", XmlDsig }),
            ExiSchemaId.AppHand => new(id, "apphand", new[] { "urn:iso:15118:2:2010:AppProtocol" }, new[] { "V2G_CI_AppProtocol.xsd" }),
            ExiSchemaId.XmlDsig => new(id, "xmldsig", new[] { "http://www.w3.org/2000/09/xmldsig#" }, new[] { XmlDsig }),
            _ => throw new ArgumentOutOfRangeException(nameof(id)),
        };
    }

    private XmlSchemaSet LoadSchemaSet()
    {
        // Every file is added explicitly, so imports resolve inside the set and nothing is fetched (no resolver).
        var set = new XmlSchemaSet { XmlResolver = null };
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Parse, XmlResolver = null, MaxCharactersFromEntities = 1 << 16 };
        var asm = typeof(ExiSchema).Assembly;
        foreach (var file in _files)
        {
            using var stream = asm.GetManifestResourceStream(ResourcePrefix + file)
                ?? throw new InvalidOperationException($"embedded schema {file} is missing");
            using var reader = XmlReader.Create(stream, settings, ResourcePrefix + file);
            set.Add(null, reader);
        }
        set.Compile();
        return set;
    }

    internal SchemaGrammar Grammar(ExiOptions options) => options.Strict ? _strict.Value : _nonStrict.Value;

    /// <summary>Builds the grammars now (otherwise built on first use).</summary>
    public void Warm(ExiOptions? options = null) => _ = Grammar(options ?? ExiOptions.Iso15118);

    /// <summary>Qualified names of the global elements, in EXI DocContent order.</summary>
    public IReadOnlyList<QName> GlobalElements => Grammar(ExiOptions.Iso15118).GlobalElements;

    /// <summary>Qualified names of all declared elements, in EXI FragmentContent order.</summary>
    public IReadOnlyList<QName> FragmentElements => Grammar(ExiOptions.Iso15118).FragmentElements;

    // ---------------------------------------------------------------- codec

    /// <summary>Decodes an EXI document (header + body). Throws only <see cref="ExiDecodeException"/>.</summary>
    public ExiElement Decode(ReadOnlySpan<byte> exi, ExiOptions? options = null) => Decode(exi.ToArray(), options);

    public ExiElement Decode(byte[] exi, ExiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exi);
        var o = options ?? ExiOptions.Iso15118;
        var decoder = new ExiDecoder(Grammar(o), o, exi, 0, exi.Length);
        return Guard(decoder.DecodeDocument);
    }

    /// <summary>Decodes an EXI fragment (zero or more top-level elements). Throws only <see cref="ExiDecodeException"/>.</summary>
    public IReadOnlyList<ExiElement> DecodeFragment(ReadOnlySpan<byte> exi, ExiOptions? options = null) => DecodeFragment(exi.ToArray(), options);

    public IReadOnlyList<ExiElement> DecodeFragment(byte[] exi, ExiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exi);
        var o = options ?? ExiOptions.Iso15118;
        var decoder = new ExiDecoder(Grammar(o), o, exi, 0, exi.Length);
        return Guard(decoder.DecodeFragment);
    }

    /// <summary>Encodes a document. Throws only <see cref="ExiEncodeException"/> for models the grammar cannot carry.</summary>
    public byte[] Encode(ExiElement root, ExiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var o = options ?? ExiOptions.Iso15118;
        using var encoder = new ExiEncoder(Grammar(o), o);
        return GuardEncode(() => encoder.EncodeDocument(root));
    }

    /// <summary>Encodes elements as an EXI fragment (what XML signatures over EXI digest, §8.5.2).</summary>
    public byte[] EncodeFragment(IEnumerable<ExiElement> elements, ExiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var o = options ?? ExiOptions.Iso15118;
        using var encoder = new ExiEncoder(Grammar(o), o);
        return GuardEncode(() => encoder.EncodeFragment(elements));
    }

    public byte[] EncodeFragment(ExiElement element, ExiOptions? options = null) => EncodeFragment(new[] { element }, options);

    /// <summary>Encodes an XML document; malformed XML is reported as <see cref="ExiEncodeException"/> too.</summary>
    public byte[] EncodeXml(string xml, ExiOptions? options = null) => Encode(ParseXml(xml), options);

    /// <summary>Encodes the root element of an XML text as an EXI fragment.</summary>
    public byte[] EncodeXmlFragment(string xml, ExiOptions? options = null) => EncodeFragment(ParseXml(xml), options);

    private static ExiElement ParseXml(string xml)
    {
        try
        {
            return ExiXml.Parse(xml);
        }
        catch (XmlException ex)
        {
            throw new ExiEncodeException("", "not well-formed XML: " + ex.Message, ex);
        }
    }

    private static T Guard<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (ExiDecodeException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect, not an input problem; still reported in the typed form the API promises.
            throw new ExiDecodeException(-1, "internal error: " + ex.Message, ex);
        }
    }

    private static byte[] GuardEncode(Func<byte[]> f)
    {
        try
        {
            return f();
        }
        catch (ExiEncodeException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ExiEncodeException("", "internal error: " + ex.Message, ex);
        }
    }

    public override string ToString() => Name;
}
