using System.Globalization;
using System.Numerics;
using System.Xml;
using System.Xml.Schema;

namespace PlugAndCharge.Exi.Grammar;

/// <summary>
/// Derives EXI schema-informed grammars from a compiled <see cref="XmlSchemaSet"/> (EXI 1.0 §8.5):
/// proto-grammars per type (attribute uses sorted by qname, then the content particle), normalized by
/// epsilon elimination and merging of duplicate terminals (a subset construction, §8.5.4.2), event codes
/// assigned per §8.5.4.3, then the undeclared productions of §8.5.4.4 (strict or not).
/// </summary>
internal sealed class GrammarBuilder
{
    private const string XsiNs = "http://www.w3.org/2001/XMLSchema-instance";
    private const string XmlNs = "http://www.w3.org/XML/1998/namespace";
    private const string XsdNs = "http://www.w3.org/2001/XMLSchema";

    private readonly XmlSchemaSet _set;
    private readonly bool _strict;
    private readonly string _name;
    private readonly Dictionary<(XmlSchemaType Type, bool Nillable), TypeGrammar> _grammars = new(new TypeKeyComparer());
    private readonly Dictionary<XmlSchemaType, Datatype> _datatypes = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<(XmlSchemaType Type, bool Nillable, TypeGrammar Grammar)> _pending = new();
    private readonly Dictionary<XmlQualifiedName, List<XmlSchemaElement>> _substitutions = new();
    private readonly HashSet<XmlQualifiedName> _castable = new();
    private readonly Dictionary<object, int> _firstAppearance = new(ReferenceEqualityComparer.Instance);

    public GrammarBuilder(XmlSchemaSet set, string name, bool strict)
    {
        _set = set;
        _name = name;
        _strict = strict;
    }

    public SchemaGrammar Build()
    {
        IndexSubstitutionGroups();
        IndexCastableTypes();

        var g = new SchemaGrammar { Name = _name, Strict = _strict };

        // Global elements, sorted by local name then uri (§8.5.1).
        var globals = _set.GlobalElements.Values.Cast<XmlSchemaElement>()
            .Select(e => (Name: ToQName(e.QualifiedName), Decl: e))
            .OrderBy(x => x.Name).ToArray();
        g.GlobalElements = globals.Select(x => x.Name).ToArray();
        g.GlobalElementGrammars = globals.Select(x => GetGrammar(x.Decl.ElementSchemaType!, x.Decl.IsNillable)).ToArray();
        for (int i = 0; i < g.GlobalElements.Length; i++) g.GlobalElementIndex[g.GlobalElements[i]] = i;
        g.DocContentBits = BitsFor(g.GlobalElements.Length + 1);

        foreach (XmlSchemaAttribute a in _set.GlobalAttributes.Values)
            g.GlobalAttributes[ToQName(a.QualifiedName)] = GetDatatype(a.AttributeSchemaType!);

        foreach (XmlSchemaType t in _set.GlobalTypes.Values)
        {
            if (t.QualifiedName.Namespace == XsdNs) continue;
            g.NamedTypes[ToQName(t.QualifiedName)] = GetGrammar(t, false);
        }
        // Built-in types are valid xsi:type targets too.
        foreach (var name in BuiltInTypeNames)
        {
            var qn = new XmlQualifiedName(name, XsdNs);
            XmlSchemaType? bt = XmlSchemaType.GetBuiltInSimpleType(qn) ?? (XmlSchemaType?)XmlSchemaType.GetBuiltInComplexType(qn);
            if (bt != null) g.NamedTypes.TryAdd(ToQName(qn), GetGrammar(bt, false));
        }

        // Every element and attribute declaration, for the fragment grammars and the string table.
        var elementDecls = new List<(QName Name, XmlSchemaType Type, bool Nillable)>();
        var attributeDecls = new List<(QName Name, XmlSchemaSimpleType Type)>();
        CollectDeclarations(elementDecls, attributeDecls);

        g.BooleanType = GetDatatype(XmlSchemaType.GetBuiltInSimpleType(XmlTypeCode.Boolean)!);

        // Drain the work list before building fragment grammars that reference the same types.
        DrainPending();

        BuildFragmentGrammars(g, elementDecls, attributeDecls);
        BuildStringTable(g, elementDecls, attributeDecls);
        DrainPending();
        return g;
    }

    private void DrainPending()
    {
        while (_pending.Count > 0)
        {
            var (type, nillable, grammar) = _pending.Dequeue();
            BuildTypeGrammar(type, nillable, grammar);
        }
    }

    // ---------------------------------------------------------------- declarations

    private void IndexSubstitutionGroups()
    {
        foreach (XmlSchemaElement e in _set.GlobalElements.Values)
        {
            if (e.SubstitutionGroup.IsEmpty) continue;
            if (!_substitutions.TryGetValue(e.SubstitutionGroup, out var list)) _substitutions[e.SubstitutionGroup] = list = new();
            list.Add(e);
        }
    }

    /// <summary>Members of the substitution group headed by <paramref name="head"/> (head included), transitively, sorted by qname (§8.5.4.1.6).</summary>
    private List<XmlSchemaElement> SubstitutionMembers(XmlSchemaElement head)
    {
        var result = new List<XmlSchemaElement>();
        var seen = new HashSet<XmlQualifiedName>();
        var stack = new Stack<XmlSchemaElement>();
        stack.Push(head);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (!seen.Add(e.QualifiedName)) continue;
            // Abstract declarations keep their SE production: the reference codecs (and the -2 vectors) count
            // BodyElement among the members of the Body substitution group.
            result.Add(e);
            if (_substitutions.TryGetValue(e.QualifiedName, out var members))
                foreach (var m in members) stack.Push(m);
        }
        result.Sort((a, b) => ToQName(a.QualifiedName).CompareTo(ToQName(b.QualifiedName)));
        return result;
    }

    /// <summary>Types that have named sub-types (so xsi:type can cast them; strict mode only, §8.5.4.4.2).</summary>
    private void IndexCastableTypes()
    {
        foreach (XmlTypeCode code in Enum.GetValues<XmlTypeCode>())
        {
            XmlSchemaSimpleType? t;
            try { t = XmlSchemaType.GetBuiltInSimpleType(code); }
            catch (ArgumentException) { continue; }
            if (t?.BaseXmlSchemaType is { } b && !b.QualifiedName.IsEmpty) _castable.Add(b.QualifiedName);
        }
        _castable.Add(new XmlQualifiedName("anyType", XsdNs));
        foreach (XmlSchemaType t in _set.GlobalTypes.Values)
            if (t.BaseXmlSchemaType is { } b && !b.QualifiedName.IsEmpty) _castable.Add(b.QualifiedName);
    }

    private bool IsCastable(XmlSchemaType t)
    {
        if (!t.QualifiedName.IsEmpty && _castable.Contains(t.QualifiedName)) return true;
        return t is XmlSchemaSimpleType st && st.Datatype?.Variety == XmlSchemaDatatypeVariety.Union;
    }

    private void CollectDeclarations(List<(QName, XmlSchemaType, bool)> elements, List<(QName, XmlSchemaSimpleType)> attributes)
    {
        var visited = new HashSet<XmlSchemaType>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<XmlSchemaType>();
        foreach (XmlSchemaElement e in _set.GlobalElements.Values)
        {
            elements.Add((ToQName(e.QualifiedName), e.ElementSchemaType!, e.IsNillable));
            stack.Push(e.ElementSchemaType!);
        }
        foreach (XmlSchemaAttribute a in _set.GlobalAttributes.Values)
            attributes.Add((ToQName(a.QualifiedName), a.AttributeSchemaType!));
        foreach (XmlSchemaType t in _set.GlobalTypes.Values) stack.Push(t);

        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!visited.Add(t)) continue;
            if (t is not XmlSchemaComplexType ct) continue;
            foreach (XmlSchemaAttribute a in ct.AttributeUses.Values)
                attributes.Add((ToQName(a.QualifiedName), a.AttributeSchemaType!));
            if (ct.ContentTypeParticle is { } p) WalkParticle(p);
        }

        void WalkParticle(XmlSchemaParticle p)
        {
            switch (p)
            {
                case XmlSchemaElement e:
                    var decl = Resolve(e);
                    elements.Add((ToQName(decl.QualifiedName), decl.ElementSchemaType!, decl.IsNillable));
                    stack.Push(decl.ElementSchemaType!);
                    break;
                case XmlSchemaGroupBase gb:
                    foreach (XmlSchemaObject item in gb.Items)
                        if (item is XmlSchemaParticle ip) WalkParticle(ip);
                    break;
            }
        }
    }

    private XmlSchemaElement Resolve(XmlSchemaElement e)
    {
        if (!e.RefName.IsEmpty && _set.GlobalElements[e.RefName] is XmlSchemaElement g) return g;
        return e;
    }

    // ---------------------------------------------------------------- fragment grammars

    private void BuildFragmentGrammars(SchemaGrammar g, List<(QName Name, XmlSchemaType Type, bool Nillable)> elements,
        List<(QName Name, XmlSchemaSimpleType Type)> attributes)
    {
        // §8.5.2: F0..Fn-1 = all element qnames, sorted; an element declared with different types or
        // nillability is evaluated with the relaxed Element Fragment grammar of §8.5.3.
        var byName = new SortedDictionary<QName, List<(XmlSchemaType Type, bool Nillable)>>();
        foreach (var (name, type, nillable) in elements)
        {
            if (!byName.TryGetValue(name, out var list)) byName[name] = list = new();
            if (!list.Any(x => ReferenceEquals(x.Type, type) && x.Nillable == nillable)) list.Add((type, nillable));
        }

        var ef = new TypeGrammar("ElementFragment") { IsElementFragment = true, IsMixed = true };
        g.ElementFragment = ef;

        g.FragmentElements = byName.Keys.ToArray();
        g.FragmentElementGrammars = byName.Values.Select(v => v.Count == 1 ? GetGrammar(v[0].Type, v[0].Nillable) : ef).ToArray();
        for (int i = 0; i < g.FragmentElements.Length; i++) g.FragmentElementIndex[g.FragmentElements[i]] = i;
        g.FragmentContentBits = BitsFor(g.FragmentElements.Length + 2);

        // Attributes A0..An-1: typed when every declaration of that qname has the same type.
        var attrByName = new SortedDictionary<QName, List<XmlSchemaSimpleType>>();
        foreach (var (name, type) in attributes)
        {
            if (!attrByName.TryGetValue(name, out var list)) attrByName[name] = list = new();
            if (!list.Any(x => ReferenceEquals(x, type))) list.Add(type);
        }

        var s0 = new List<Production>();
        foreach (var (name, types) in attrByName)
            s0.Add(new Production { Type = EventType.Attribute, Name = name, Next = 0, Datatype = types.Count == 1 ? GetDatatype(types[0]) : Datatype.UntypedString });
        s0.Add(new Production { Type = EventType.AttributeAny, Next = 0 });
        var content = new List<Production>();
        for (int i = 0; i < g.FragmentElements.Length; i++)
            content.Add(new Production { Type = EventType.StartElement, Name = g.FragmentElements[i], Element = g.FragmentElementGrammars[i], Next = 1, Order = i });
        content.Add(new Production { Type = EventType.StartElementAny, Next = 1 });
        content.Add(new Production { Type = EventType.EndElement });
        content.Add(new Production { Type = EventType.CharactersUntyped, Next = 1 });
        s0.AddRange(content);

        ef.States = new[]
        {
            MakeState(s0.ToArray(), StateKind.FirstStartTag, 1, castable: true, nillable: true, sort: false),
            MakeState(content.ToArray(), StateKind.Content, 1, castable: false, nillable: false, sort: false),
        };
        var empty = new TypeGrammar("ElementFragmentEmpty") { IsElementFragment = true };
        var e0 = s0.Where(p => p.Type is EventType.Attribute or EventType.AttributeAny).ToList();
        e0.Add(new Production { Type = EventType.EndElement });
        empty.States = new[] { MakeState(e0.ToArray(), StateKind.FirstStartTag, 0, castable: true, nillable: true, sort: false) };
        ef.Empty = empty;
    }

    // ---------------------------------------------------------------- string table (Appendix D)

    private void BuildStringTable(SchemaGrammar g, List<(QName Name, XmlSchemaType Type, bool Nillable)> elements,
        List<(QName Name, XmlSchemaSimpleType Type)> attributes)
    {
        var uris = new List<string> { "", XmlNs, XsiNs, XsdNs };
        var targetNamespaces = new SortedSet<string>(StringComparer.Ordinal);
        foreach (XmlSchema s in _set.Schemas())
            if (!string.IsNullOrEmpty(s.TargetNamespace)) targetNamespaces.Add(s.TargetNamespace);
        foreach (var ns in targetNamespaces)
            if (!uris.Contains(ns)) uris.Add(ns);

        var names = uris.ToDictionary(u => u, _ => new SortedSet<string>(StringComparer.Ordinal));
        names[XmlNs].UnionWith(new[] { "base", "id", "lang", "space" });
        names[XsiNs].UnionWith(new[] { "nil", "type" });
        names[XsdNs].UnionWith(BuiltInTypeNames);

        void Add(QName q)
        {
            if (!names.TryGetValue(q.Namespace, out var set))
            {
                uris.Add(q.Namespace);
                names[q.Namespace] = set = new SortedSet<string>(StringComparer.Ordinal);
            }
            set.Add(q.LocalName);
        }
        foreach (var e in elements) Add(e.Name);
        foreach (var a in attributes) Add(a.Name);
        foreach (XmlSchemaType t in _set.GlobalTypes.Values)
            if (t.QualifiedName.Namespace != XsdNs) Add(ToQName(t.QualifiedName));

        g.InitialUris = uris.ToArray();
        g.InitialLocalNames = uris.Select(u => names[u].ToArray()).ToArray();
        for (int i = 0; i < g.InitialUris.Length; i++) g.UriIndex.TryAdd(g.InitialUris[i], i);
        g.LocalNameIndex = g.InitialLocalNames.Select(a =>
        {
            var d = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < a.Length; i++) d.TryAdd(a[i], i);
            return d;
        }).ToArray();
    }

    private static readonly string[] BuiltInTypeNames =
    {
        "ENTITIES", "ENTITY", "ID", "IDREF", "IDREFS", "NCName", "NMTOKEN", "NMTOKENS", "NOTATION", "Name", "QName",
        "anySimpleType", "anyType", "anyURI", "base64Binary", "boolean", "byte", "date", "dateTime", "decimal", "double",
        "duration", "float", "gDay", "gMonth", "gMonthDay", "gYear", "gYearMonth", "hexBinary", "int", "integer", "language",
        "long", "negativeInteger", "nonNegativeInteger", "nonPositiveInteger", "normalizedString", "positiveInteger", "short",
        "string", "time", "token", "unsignedByte", "unsignedInt", "unsignedLong", "unsignedShort",
    };

    // ---------------------------------------------------------------- type grammars

    private TypeGrammar GetGrammar(XmlSchemaType type, bool nillable)
    {
        // Nillability changes the grammar only in strict mode (AT(xsi:nil) is always there otherwise).
        if (!_strict) nillable = false;
        if (_grammars.TryGetValue((type, nillable), out var g)) return g;
        string name = type.QualifiedName.IsEmpty ? "anonymous:" + (type.Parent is XmlSchemaElement pe ? pe.QualifiedName.Name : "?") : type.QualifiedName.Name;
        g = new TypeGrammar(name);
        _grammars[(type, nillable)] = g;
        _pending.Enqueue((type, nillable, g));
        return g;
    }

    private sealed class AttributeUse
    {
        public QName Name;
        public Datatype Datatype = null!;
        public bool Required;
    }

    private void BuildTypeGrammar(XmlSchemaType type, bool nillable, TypeGrammar grammar)
    {
        var attrs = new List<AttributeUse>();
        List<Production>? attrWildcard = null;
        Dfa content;
        bool mixed = false;

        if (type is XmlSchemaSimpleType st)
        {
            var dt = GetDatatype(st);
            grammar.SimpleContent = dt;
            content = Dfa.Simple(dt);
        }
        else
        {
            var ct = (XmlSchemaComplexType)type;
            foreach (XmlSchemaAttribute a in ct.AttributeUses.Values)
            {
                if (a.Use == XmlSchemaUse.Prohibited) continue;
                attrs.Add(new AttributeUse { Name = ToQName(a.QualifiedName), Datatype = GetDatatype(a.AttributeSchemaType!), Required = a.Use == XmlSchemaUse.Required });
            }
            attrs.Sort((x, y) => x.Name.CompareTo(y.Name));
            if (ct.AttributeWildcard is { } aw) attrWildcard = WildcardProductions(aw.Namespace, TargetNamespaceOf(aw), attribute: true);

            switch (ct.ContentType)
            {
                case XmlSchemaContentType.TextOnly:
                    var simple = SimpleContentType(ct);
                    var sdt = GetDatatype(simple);
                    grammar.SimpleContent = sdt;
                    content = Dfa.Simple(sdt);
                    break;
                case XmlSchemaContentType.Empty:
                    content = Dfa.Empty();
                    break;
                default:
                    mixed = ct.ContentType == XmlSchemaContentType.Mixed;
                    content = ct.ContentTypeParticle is { } p ? BuildContentDfa(p) : Dfa.Empty();
                    break;
            }
        }

        grammar.IsMixed = mixed;
        bool castable = IsCastable(type);
        grammar.States = Assemble(attrs, attrWildcard, content, mixed, castable, nillable);
        // TypeEmpty_i: the same attributes, then only EE (§8.5.4.1.3).
        var empty = new TypeGrammar(grammar.Name + "#empty") { SimpleContent = grammar.SimpleContent };
        empty.States = Assemble(attrs, attrWildcard, Dfa.Empty(), false, castable, nillable);
        grammar.Empty = empty;
    }

    private static XmlSchemaSimpleType SimpleContentType(XmlSchemaComplexType ct)
    {
        XmlSchemaType? t = ct;
        while (t is XmlSchemaComplexType c) t = c.BaseXmlSchemaType;
        return t as XmlSchemaSimpleType ?? XmlSchemaType.GetBuiltInSimpleType(XmlTypeCode.String)!;
    }

    private GrammarState[] Assemble(List<AttributeUse> attrs, List<Production>? attrWildcard, Dfa content, bool mixed, bool castable, bool nillable)
    {
        int n = attrs.Count;
        int contentBase = n + 1; // DFA state k lives at contentBase + k (element-content variant)
        var states = new GrammarState[n + 1 + content.States.Count];

        List<Production> ContentProductions(int dfaState)
        {
            var ds = content.States[dfaState];
            var list = new List<Production>(ds.Edges.Count + 2);
            foreach (var e in ds.Edges)
            {
                list.Add(new Production
                {
                    Type = e.Type, Name = e.Name, Element = e.Element, Datatype = e.Datatype,
                    Next = contentBase + e.Target, Order = e.Order,
                });
            }
            if (ds.Accepting) list.Add(new Production { Type = EventType.EndElement });
            if (mixed) list.Add(new Production { Type = EventType.CharactersUntyped, Next = contentBase + dfaState });
            return list;
        }

        for (int k = 0; k < n; k++)
        {
            var prods = new List<Production>();
            int j = k;
            for (; j < n; j++)
            {
                prods.Add(new Production { Type = EventType.Attribute, Name = attrs[j].Name, Datatype = attrs[j].Datatype, Next = j + 1 });
                if (attrs[j].Required) break;
            }
            if (j == n) prods.AddRange(ContentProductions(0));
            if (attrWildcard != null) prods.AddRange(attrWildcard.Select(w => Clone(w, k)));
            states[k] = MakeState(prods.ToArray(), k == 0 ? StateKind.FirstStartTag : StateKind.StartTag, contentBase, castable, nillable, sort: true);
        }

        var start = ContentProductions(0);
        if (attrWildcard != null) start.AddRange(attrWildcard.Select(w => Clone(w, n)));
        states[n] = MakeState(start.ToArray(), n == 0 ? StateKind.FirstStartTag : StateKind.StartTag, contentBase, castable, nillable, sort: true);

        for (int k = 0; k < content.States.Count; k++)
            states[contentBase + k] = MakeState(ContentProductions(k).ToArray(), StateKind.Content, contentBase + k, castable, nillable, sort: true);
        return states;
    }

    private static Production Clone(Production p, int next) => new()
    {
        Type = p.Type, Name = p.Name, Next = next, Element = p.Element, Datatype = p.Datatype, Order = p.Order,
    };

    private static int Category(EventType t) => t switch
    {
        EventType.Attribute => 0,
        EventType.AttributeNs => 1,
        EventType.AttributeAny => 2,
        EventType.StartElement => 3,
        EventType.StartElementNs => 4,
        EventType.StartElementAny => 5,
        EventType.EndElement => 6,
        _ => 7,
    };

    /// <summary>Event code assignment, EXI 1.0 §8.5.4.3: AT(qname) by qname, AT(uri:*), AT(*), SE(qname) in schema order, SE(uri:*), SE(*), EE, CH.</summary>
    private static int CompareProductions(Production a, Production b)
    {
        int c = Category(a.Type).CompareTo(Category(b.Type));
        if (c != 0) return c;
        return a.Type switch
        {
            EventType.Attribute => a.Name.CompareTo(b.Name),
            EventType.AttributeNs => string.CompareOrdinal(a.Name.Namespace, b.Name.Namespace),
            EventType.StartElement or EventType.StartElementNs => a.Order.CompareTo(b.Order),
            _ => 0,
        };
    }

    private GrammarState MakeState(Production[] prods, StateKind kind, int contentState, bool castable, bool nillable, bool sort)
    {
        if (sort) Array.Sort(prods, CompareProductions);
        var s = new GrammarState { Productions = prods, Kind = kind, ContentState = contentState };
        for (int i = 0; i < prods.Length; i++)
        {
            if (prods[i].Type == EventType.EndElement) s.EndIndex = i;
            else if (prods[i].Type is EventType.CharactersTyped or EventType.CharactersUntyped && s.CharIndex < 0) s.CharIndex = i;
        }

        var second = new List<SecondLevelEvent>();
        if (_strict)
        {
            // §8.5.4.4.2: only xsi:type (castable types) and xsi:nil (nillable elements) in the first state.
            if (kind == StateKind.FirstStartTag)
            {
                if (castable) second.Add(SecondLevelEvent.XsiType);
                if (nillable) second.Add(SecondLevelEvent.XsiNil);
            }
        }
        else
        {
            // §8.5.4.4.1, in the order the spec assigns second-level codes.
            if (s.EndIndex < 0) second.Add(SecondLevelEvent.EndElement);
            if (kind == StateKind.FirstStartTag)
            {
                second.Add(SecondLevelEvent.XsiType);
                second.Add(SecondLevelEvent.XsiNil);
            }
            if (kind != StateKind.Content)
            {
                second.Add(SecondLevelEvent.AttributeAny);
                second.Add(SecondLevelEvent.AttributeInvalid);
            }
            second.Add(SecondLevelEvent.StartElementAny);
            second.Add(SecondLevelEvent.CharactersUntyped);
        }
        s.Second = second.ToArray();
        s.SecondBits = BitsFor(second.Count);
        s.Bits = BitsFor(prods.Length + (second.Count > 0 ? 1 : 0));
        return s;
    }

    /// <summary>ceil(log2(n)), 0 for n &lt;= 1 (EXI 1.0 §6.2 event code widths).</summary>
    internal static int BitsFor(int n)
    {
        int bits = 0;
        while ((1L << bits) < n) bits++;
        return bits;
    }

    private List<Production> WildcardProductions(string? ns, string? targetNamespace, bool attribute)
    {
        // §8.5.4.1.7: "##any" and "##other" (a 'not' constraint) give SE(*)/AT(*); a set of namespaces gives SE(uri:*) each.
        var list = new List<Production>();
        string constraint = string.IsNullOrWhiteSpace(ns) ? "##any" : ns.Trim();
        if (constraint is "##any" or "##other")
        {
            list.Add(new Production { Type = attribute ? EventType.AttributeAny : EventType.StartElementAny });
            return list;
        }
        var uris = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var token in constraint.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            uris.Add(token switch
            {
                "##targetNamespace" => targetNamespace ?? "",
                "##local" => "",
                _ => token,
            });
        }
        foreach (var u in uris)
            list.Add(new Production { Type = attribute ? EventType.AttributeNs : EventType.StartElementNs, Name = new QName(u, "*") });
        return list;
    }

    private static string? TargetNamespaceOf(XmlSchemaObject o)
    {
        for (var p = o; p != null; p = p.Parent)
            if (p is XmlSchema s) return s.TargetNamespace;
        return null;
    }

    // ---------------------------------------------------------------- content model automaton

    private sealed class Edge
    {
        public EventType Type;
        public QName Name;
        public TypeGrammar? Element;
        public Datatype? Datatype;
        public long Order;
        public int Target;
    }

    private sealed class DfaState
    {
        public List<Edge> Edges = new();
        public bool Accepting;
    }

    private sealed class Dfa
    {
        public List<DfaState> States = new();

        public static Dfa Simple(Datatype dt)
        {
            var d = new Dfa();
            var s0 = new DfaState();
            s0.Edges.Add(new Edge { Type = EventType.CharactersTyped, Datatype = dt, Target = 1 });
            d.States.Add(s0);
            d.States.Add(new DfaState { Accepting = true });
            return d;
        }

        public static Dfa Empty()
        {
            var d = new Dfa();
            d.States.Add(new DfaState { Accepting = true });
            return d;
        }
    }

    private sealed class NfaTerm
    {
        public EventType Type;
        public QName Name;
        public XmlSchemaElement? Decl;
        public long Order;
    }

    private sealed class Nfa
    {
        public readonly List<List<int>> Eps = new();
        public readonly List<List<(NfaTerm Term, int To)>> Moves = new();

        public int NewState()
        {
            Eps.Add(new List<int>());
            Moves.Add(new List<(NfaTerm, int)>());
            return Eps.Count - 1;
        }
    }

    private const int MaxUnroll = 100_000;

    private Dfa BuildContentDfa(XmlSchemaParticle particle)
    {
        var nfa = new Nfa();
        int start = nfa.NewState();
        int final = BuildParticle(nfa, particle, start);

        // Subset construction over epsilon closures (= EXI normalization, §8.5.4.2).
        var dfa = new Dfa();
        var index = new Dictionary<string, int>();
        var queue = new Queue<int[]>();
        var sets = new List<int[]>();

        int Intern(int[] set)
        {
            string key = string.Join(",", set);
            if (index.TryGetValue(key, out int id)) return id;
            id = sets.Count;
            index[key] = id;
            sets.Add(set);
            dfa.States.Add(new DfaState());
            queue.Enqueue(set);
            return id;
        }

        Intern(Closure(nfa, new[] { start }));
        int processed = 0;
        while (queue.Count > 0)
        {
            var set = queue.Dequeue();
            int id = processed++;
            var state = dfa.States[id];
            state.Accepting = Array.BinarySearch(set, final) >= 0;
            // Group moves by terminal identity; keep the first schema-order key seen per terminal.
            var groups = new List<(NfaTerm Term, List<int> Targets)>();
            foreach (int s in set)
            {
                foreach (var (term, to) in nfa.Moves[s])
                {
                    int gi = groups.FindIndex(g => SameTerminal(g.Term, term));
                    if (gi < 0) groups.Add((term, new List<int> { to }));
                    else
                    {
                        groups[gi].Targets.Add(to);
                        if (term.Order < groups[gi].Term.Order) groups[gi] = (term, groups[gi].Targets);
                    }
                }
            }
            foreach (var (term, targets) in groups)
            {
                int target = Intern(Closure(nfa, targets));
                var decl = term.Decl;
                state.Edges.Add(new Edge
                {
                    Type = term.Type,
                    Name = term.Name,
                    Order = term.Order,
                    Target = target,
                    Element = decl != null ? GetGrammar(decl.ElementSchemaType!, decl.IsNillable) : null,
                });
            }
        }
        return dfa;
    }

    private static bool SameTerminal(NfaTerm a, NfaTerm b) => a.Type == b.Type && a.Name == b.Name;

    private static int[] Closure(Nfa nfa, IEnumerable<int> seeds)
    {
        var seen = new HashSet<int>();
        var stack = new Stack<int>(seeds);
        while (stack.Count > 0)
        {
            int s = stack.Pop();
            if (!seen.Add(s)) continue;
            foreach (int t in nfa.Eps[s]) stack.Push(t);
        }
        var arr = seen.ToArray();
        Array.Sort(arr);
        return arr;
    }

    private int BuildParticle(Nfa nfa, XmlSchemaParticle p, int entry)
    {
        long max = p.MaxOccurs == decimal.MaxValue ? -1 : (long)p.MaxOccurs;
        long min = (long)p.MinOccurs;
        if (max == 0) return entry;
        if (min > MaxUnroll || max > MaxUnroll) throw new InvalidOperationException($"occurrence bound too large to unroll: {p.MaxOccursString}");
        int cur = entry;
        for (long i = 0; i < min; i++) cur = BuildTerm(nfa, p, cur);
        if (max < 0)
        {
            // Unbounded: one more copy whose end loops back (§8.5.4.1.5).
            int loop = nfa.NewState();
            nfa.Eps[cur].Add(loop);
            int e = BuildTerm(nfa, p, loop);
            nfa.Eps[e].Add(loop);
            return loop;
        }
        if (max == min) return cur;
        int exit = nfa.NewState();
        for (long i = min; i < max; i++)
        {
            nfa.Eps[cur].Add(exit);
            cur = BuildTerm(nfa, p, cur);
        }
        nfa.Eps[cur].Add(exit);
        return exit;
    }

    private int BuildTerm(Nfa nfa, XmlSchemaParticle p, int entry)
    {
        switch (p)
        {
            case XmlSchemaElement e:
            {
                var decl = Resolve(e);
                long order = FirstAppearance(decl) * 4096L;
                int exit = nfa.NewState();
                if (!e.RefName.IsEmpty && _substitutions.ContainsKey(decl.QualifiedName))
                {
                    var members = SubstitutionMembers(decl);
                    for (int i = 0; i < members.Count; i++)
                        nfa.Moves[entry].Add((new NfaTerm { Type = EventType.StartElement, Name = ToQName(members[i].QualifiedName), Decl = members[i], Order = order + i }, exit));
                }
                else
                {
                    nfa.Moves[entry].Add((new NfaTerm { Type = EventType.StartElement, Name = ToQName(decl.QualifiedName), Decl = decl, Order = order }, exit));
                }
                return exit;
            }
            case XmlSchemaAny any:
            {
                long order = FirstAppearance(any) * 4096L;
                int exit = nfa.NewState();
                foreach (var w in WildcardProductions(any.Namespace, TargetNamespaceOf(any), attribute: false))
                    nfa.Moves[entry].Add((new NfaTerm { Type = w.Type, Name = w.Name, Order = order }, exit));
                return exit;
            }
            case XmlSchemaSequence seq:
            {
                int cur = entry;
                foreach (XmlSchemaObject item in seq.Items) cur = BuildParticle(nfa, (XmlSchemaParticle)item, cur);
                return cur;
            }
            case XmlSchemaChoice choice:
            {
                int exit = nfa.NewState();
                if (choice.Items.Count == 0) nfa.Eps[entry].Add(exit);
                foreach (XmlSchemaObject item in choice.Items)
                {
                    int e = BuildParticle(nfa, (XmlSchemaParticle)item, entry);
                    nfa.Eps[e].Add(exit);
                }
                return exit;
            }
            case XmlSchemaAll all:
            {
                // §8.5.4.1.8: the members of an all group may come in any order, each ending back at the hub.
                int hub = nfa.NewState();
                nfa.Eps[entry].Add(hub);
                foreach (XmlSchemaObject item in all.Items)
                {
                    int e = BuildParticle(nfa, (XmlSchemaParticle)item, hub);
                    nfa.Eps[e].Add(hub);
                }
                return hub;
            }
            default:
                return entry;
        }
    }

    private int FirstAppearance(object decl)
    {
        if (!_firstAppearance.TryGetValue(decl, out int i))
        {
            i = _firstAppearance.Count;
            _firstAppearance[decl] = i;
        }
        return i;
    }

    // ---------------------------------------------------------------- datatypes (§7.1, Table 7-1)

    internal Datatype GetDatatype(XmlSchemaSimpleType st)
    {
        if (_datatypes.TryGetValue(st, out var dt)) return dt;
        dt = CreateDatatype(st);
        _datatypes[st] = dt;
        return dt;
    }

    private Datatype CreateDatatype(XmlSchemaSimpleType st)
    {
        string name = st.QualifiedName.IsEmpty ? "anonymous" : st.QualifiedName.Name;
        var datatype = st.Datatype!;

        foreach (var t in Chain(st))
        {
            if (t.Content is XmlSchemaSimpleTypeRestriction r)
                foreach (XmlSchemaObject f in r.Facets)
                    if (f is XmlSchemaPatternFacet)
                        throw new InvalidOperationException($"type {name}: pattern facets (restricted character sets, EXI 1.0 §7.1.10.1) are not supported by this codec");
        }

        if (datatype.Variety == XmlSchemaDatatypeVariety.List)
        {
            var itemType = ListItemType(st);
            return new Datatype { Kind = DatatypeKind.List, TypeName = name, Item = GetDatatype(itemType) };
        }
        if (datatype.Variety == XmlSchemaDatatypeVariety.Union)
            return new Datatype { Kind = DatatypeKind.String, TypeName = name, PreserveWhitespace = false };

        var code = datatype.TypeCode;
        var enumValues = EnumerationValues(st);
        if (enumValues != null && code is not (XmlTypeCode.QName or XmlTypeCode.Notation))
        {
            var baseDt = CreatePrimitive(st, name, code);
            var e = new Datatype
            {
                Kind = DatatypeKind.Enumeration,
                TypeName = name,
                EnumValues = enumValues.ToArray(),
                EnumBase = baseDt,
                Bits = BitsFor(enumValues.Count),
                PreserveWhitespace = baseDt.PreserveWhitespace,
            };
            e.EnumIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < e.EnumValues.Length; i++) e.EnumIndex.TryAdd(e.EnumValues[i], i);
            return e;
        }
        return CreatePrimitive(st, name, code);
    }

    private static IEnumerable<XmlSchemaSimpleType> Chain(XmlSchemaSimpleType st)
    {
        for (XmlSchemaType? t = st; t is XmlSchemaSimpleType s; t = s.BaseXmlSchemaType)
        {
            yield return s;
            if (s.QualifiedName.Namespace == XsdNs) yield break;
        }
    }

    private static XmlSchemaSimpleType ListItemType(XmlSchemaSimpleType st)
    {
        foreach (var t in Chain(st))
        {
            if (t.Content is XmlSchemaSimpleTypeList l && l.BaseItemType != null) return l.BaseItemType;
        }
        var code = st.Datatype!.TypeCode switch
        {
            XmlTypeCode.Idref => XmlTypeCode.Idref,
            XmlTypeCode.Entity => XmlTypeCode.Entity,
            _ => XmlTypeCode.NmToken,
        };
        return XmlSchemaType.GetBuiltInSimpleType(code)!;
    }

    private static List<string>? EnumerationValues(XmlSchemaSimpleType st)
    {
        foreach (var t in Chain(st))
        {
            if (t.Content is not XmlSchemaSimpleTypeRestriction r) continue;
            var values = r.Facets.OfType<XmlSchemaEnumerationFacet>().Select(f => f.Value ?? "").ToList();
            if (values.Count > 0) return values;
        }
        return null;
    }

    private static Datatype CreatePrimitive(XmlSchemaSimpleType st, string name, XmlTypeCode code)
    {
        var dt = new Datatype { TypeName = name };
        switch (code)
        {
            case XmlTypeCode.Boolean:
                dt.Kind = DatatypeKind.Boolean;
                break;
            case XmlTypeCode.Decimal:
                dt.Kind = DatatypeKind.Decimal;
                break;
            case XmlTypeCode.Float:
            case XmlTypeCode.Double:
                dt.Kind = DatatypeKind.Float;
                break;
            case XmlTypeCode.HexBinary:
                dt.Kind = DatatypeKind.HexBinary;
                break;
            case XmlTypeCode.Base64Binary:
                dt.Kind = DatatypeKind.Base64Binary;
                break;
            case XmlTypeCode.DateTime: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.DateTime; break;
            case XmlTypeCode.Date: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.Date; break;
            case XmlTypeCode.Time: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.Time; break;
            case XmlTypeCode.GYear: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.GYear; break;
            case XmlTypeCode.GYearMonth: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.GYearMonth; break;
            case XmlTypeCode.GMonth: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.GMonth; break;
            case XmlTypeCode.GMonthDay: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.GMonthDay; break;
            case XmlTypeCode.GDay: dt.Kind = DatatypeKind.DateTime; dt.DateTimeType = DateTimeType.GDay; break;
            case XmlTypeCode.Integer:
            case XmlTypeCode.NonPositiveInteger:
            case XmlTypeCode.NegativeInteger:
            case XmlTypeCode.Long:
            case XmlTypeCode.Int:
            case XmlTypeCode.Short:
            case XmlTypeCode.Byte:
            case XmlTypeCode.NonNegativeInteger:
            case XmlTypeCode.UnsignedLong:
            case XmlTypeCode.UnsignedInt:
            case XmlTypeCode.UnsignedShort:
            case XmlTypeCode.UnsignedByte:
            case XmlTypeCode.PositiveInteger:
                IntegerRepresentation(st, code, dt);
                break;
            default:
                dt.Kind = DatatypeKind.String;
                dt.PreserveWhitespace = code == XmlTypeCode.String;
                break;
        }
        foreach (var t in Chain(st))
        {
            if (t.Content is not XmlSchemaSimpleTypeRestriction r) continue;
            foreach (XmlSchemaObject f in r.Facets)
            {
                if (f is XmlSchemaMaxLengthFacet ml && dt.MaxLength == null) dt.MaxLength = int.Parse(ml.Value!, CultureInfo.InvariantCulture);
                else if (f is XmlSchemaLengthFacet lf && dt.MaxLength == null) dt.MaxLength = int.Parse(lf.Value!, CultureInfo.InvariantCulture);
            }
        }
        return dt;
    }

    /// <summary>EXI 1.0 §7.1.5 / Table 7-1: n-bit when the bounded range has at most 4096 values, Unsigned when the lower bound is >= 0, else Integer.</summary>
    private static void IntegerRepresentation(XmlSchemaSimpleType st, XmlTypeCode code, Datatype dt)
    {
        BigInteger? lo = null, hi = null;
        switch (code)
        {
            case XmlTypeCode.NonPositiveInteger: hi = 0; break;
            case XmlTypeCode.NegativeInteger: hi = -1; break;
            case XmlTypeCode.Long: lo = long.MinValue; hi = long.MaxValue; break;
            case XmlTypeCode.Int: lo = int.MinValue; hi = int.MaxValue; break;
            case XmlTypeCode.Short: lo = short.MinValue; hi = short.MaxValue; break;
            case XmlTypeCode.Byte: lo = sbyte.MinValue; hi = sbyte.MaxValue; break;
            case XmlTypeCode.NonNegativeInteger: lo = 0; break;
            case XmlTypeCode.UnsignedLong: lo = 0; hi = ulong.MaxValue; break;
            case XmlTypeCode.UnsignedInt: lo = 0; hi = uint.MaxValue; break;
            case XmlTypeCode.UnsignedShort: lo = 0; hi = ushort.MaxValue; break;
            case XmlTypeCode.UnsignedByte: lo = 0; hi = byte.MaxValue; break;
            case XmlTypeCode.PositiveInteger: lo = 1; break;
        }
        foreach (var t in Chain(st))
        {
            if (t.Content is not XmlSchemaSimpleTypeRestriction r) continue;
            foreach (XmlSchemaObject f in r.Facets)
            {
                switch (f)
                {
                    case XmlSchemaMinInclusiveFacet x: Tighten(ref lo, Parse(x.Value), true); break;
                    case XmlSchemaMinExclusiveFacet x: Tighten(ref lo, Parse(x.Value) + 1, true); break;
                    case XmlSchemaMaxInclusiveFacet x: Tighten(ref hi, Parse(x.Value), false); break;
                    case XmlSchemaMaxExclusiveFacet x: Tighten(ref hi, Parse(x.Value) - 1, false); break;
                }
            }
        }
        dt.LowerBound = lo;
        dt.UpperBound = hi;
        dt.Unbounded64 = lo == null || hi == null || lo < long.MinValue || hi > long.MaxValue;
        if (lo != null && hi != null && hi - lo + 1 <= 4096 && hi >= lo)
        {
            dt.Kind = DatatypeKind.NBitInteger;
            dt.Min = (long)lo.Value;
            dt.Bits = BitsFor((int)(hi.Value - lo.Value + 1));
        }
        else if (lo != null && lo >= 0)
        {
            dt.Kind = DatatypeKind.UnsignedInteger;
        }
        else
        {
            dt.Kind = DatatypeKind.Integer;
        }

        static BigInteger Parse(string? s) => BigInteger.Parse(s!.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        static void Tighten(ref BigInteger? bound, BigInteger v, bool lower)
        {
            if (bound == null || (lower ? v > bound : v < bound)) bound = v;
        }
    }

    internal static QName ToQName(XmlQualifiedName q) => new(q.Namespace ?? "", q.Name);

    private sealed class TypeKeyComparer : IEqualityComparer<(XmlSchemaType Type, bool Nillable)>
    {
        public bool Equals((XmlSchemaType Type, bool Nillable) x, (XmlSchemaType Type, bool Nillable) y) => ReferenceEquals(x.Type, y.Type) && x.Nillable == y.Nillable;
        public int GetHashCode((XmlSchemaType Type, bool Nillable) obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Type) * 2 + (obj.Nillable ? 1 : 0);
    }
}
