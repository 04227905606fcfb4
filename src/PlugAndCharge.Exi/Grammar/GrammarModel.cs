namespace PlugAndCharge.Exi.Grammar;

/// <summary>Terminal symbols of schema-informed grammars (EXI 1.0 §8.5.4: SE, AT, EE, CH variants).</summary>
internal enum EventType : byte
{
    /// <summary>SE(qname)</summary>
    StartElement,
    /// <summary>SE(uri:*)</summary>
    StartElementNs,
    /// <summary>SE(*)</summary>
    StartElementAny,
    /// <summary>AT(qname) [schema-typed value]</summary>
    Attribute,
    /// <summary>AT(uri:*)</summary>
    AttributeNs,
    /// <summary>AT(*)</summary>
    AttributeAny,
    EndElement,
    /// <summary>CH [schema-typed value]</summary>
    CharactersTyped,
    /// <summary>CH [untyped value] (mixed content, relaxed grammars)</summary>
    CharactersUntyped,
}

/// <summary>Undeclared productions reachable through a second-level event code (EXI 1.0 §8.5.4.4).</summary>
internal enum SecondLevelEvent : byte
{
    EndElement,
    XsiType,
    XsiNil,
    AttributeAny,
    AttributeInvalid,
    StartElementAny,
    CharactersUntyped,
}

internal enum StateKind : byte
{
    FirstStartTag,
    StartTag,
    Content,
}

internal sealed class Production
{
    public EventType Type;
    /// <summary>SE/AT qname; for SE(uri:*) / AT(uri:*) only the namespace is meaningful.</summary>
    public QName Name;
    /// <summary>Target state in the same grammar (unused for EE).</summary>
    public int Next;
    /// <summary>SE(qname): the grammar of the child element.</summary>
    public TypeGrammar? Element;
    /// <summary>AT(qname) / CH typed: how the value is represented.</summary>
    public Datatype? Datatype;
    /// <summary>Schema order key used while sorting (§8.5.4.3); not used at run time.</summary>
    public long Order;

    public override string ToString() => Type switch
    {
        EventType.StartElement => $"SE({Name})",
        EventType.StartElementNs => $"SE({Name.Namespace}:*)",
        EventType.StartElementAny => "SE(*)",
        EventType.Attribute => $"AT({Name})",
        EventType.AttributeNs => $"AT({Name.Namespace}:*)",
        EventType.AttributeAny => "AT(*)",
        EventType.EndElement => "EE",
        EventType.CharactersTyped => $"CH[{Datatype}]",
        _ => "CH[untyped]",
    };
}

internal sealed class GrammarState
{
    public Production[] Productions = Array.Empty<Production>();
    /// <summary>Width of the first event-code part: ceil(log2(productions + escape)).</summary>
    public int Bits;
    public SecondLevelEvent[] Second = Array.Empty<SecondLevelEvent>();
    public int SecondBits;
    public StateKind Kind;
    public int EndIndex = -1;
    public int CharIndex = -1;
    /// <summary>Where element content continues after an undeclared SE(*) or CH (the element-content variant).</summary>
    public int ContentState;

    public override string ToString() => $"{Kind}[{Bits}b]: " + string.Join(", ", Productions.Select((p, i) => $"{i}:{p}→{p.Next}"));
}

/// <summary>The normalized, code-assigned grammar of one type (EXI "Type_i"), shared by every element of that type.</summary>
internal sealed class TypeGrammar
{
    public TypeGrammar(string name) { Name = name; }

    public string Name { get; }
    public GrammarState[] States = Array.Empty<GrammarState>();
    /// <summary>TypeEmpty_i: used after xsi:nil="true" (§8.5.4.1.3).</summary>
    public TypeGrammar? Empty;
    /// <summary>The simple type when the content is a simple value (for xsi:nil, generators and XML output).</summary>
    public Datatype? SimpleContent;
    public bool IsMixed;
    /// <summary>True for the relaxed Element Fragment grammar (§8.5.3).</summary>
    public bool IsElementFragment;

    public override string ToString() => Name;
}

/// <summary>A compiled schema set: document and fragment grammars, global declarations and the initial string tables.</summary>
internal sealed class SchemaGrammar
{
    public required string Name;
    public required bool Strict;

    // Document grammar (§8.5.1): DocContent lists the global elements sorted by qname, then SE(*).
    public QName[] GlobalElements = Array.Empty<QName>();
    public TypeGrammar[] GlobalElementGrammars = Array.Empty<TypeGrammar>();
    public int DocContentBits;
    public Dictionary<QName, int> GlobalElementIndex = new();

    // Fragment grammar (§8.5.2): all element qnames (global and local), then SE(*), ED.
    public QName[] FragmentElements = Array.Empty<QName>();
    public TypeGrammar[] FragmentElementGrammars = Array.Empty<TypeGrammar>();
    public int FragmentContentBits;
    public Dictionary<QName, int> FragmentElementIndex = new();

    public TypeGrammar ElementFragment = null!;

    public Dictionary<QName, Datatype> GlobalAttributes = new();
    public Dictionary<QName, TypeGrammar> NamedTypes = new();

    // Initial string table (Appendix D): uri partition and the local names of each uri.
    public string[] InitialUris = Array.Empty<string>();
    public string[][] InitialLocalNames = Array.Empty<string[]>();
    public Dictionary<string, int> UriIndex = new(StringComparer.Ordinal);
    public Dictionary<string, int>[] LocalNameIndex = Array.Empty<Dictionary<string, int>>();

    public Datatype BooleanType = null!;
}
