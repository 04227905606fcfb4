using System.Globalization;
using System.Numerics;
using PlugAndCharge.Exi.Grammar;
using PlugAndCharge.Exi.IO;

namespace PlugAndCharge.Exi;

/// <summary>
/// Encodes a model tree with a compiled schema grammar. Canonical: for every model there is exactly one
/// output (declared productions are always preferred; attributes in qname order; values in their schema
/// representation), so decode-then-encode reproduces the input of any conforming encoder.
/// </summary>
internal sealed class ExiEncoder : IDisposable
{
    private const string XsiNs = "http://www.w3.org/2001/XMLSchema-instance";

    private readonly SchemaGrammar _g;
    private readonly ExiOptions _o;
    private readonly BitWriter _w;
    private QNameTable? _qnames;
    private ValueTable? _values;
    private Dictionary<QName, BuiltInGrammar>? _builtIns;
    private int _depth;
    private readonly List<string> _path = new(16);

    /// <summary>Call <see cref="Dispose"/> when done so the output buffer is reused.</summary>
    public ExiEncoder(SchemaGrammar g, ExiOptions o)
    {
        _g = g;
        _o = o;
        _w = BitWriter.Rent();
        if (o.ValuePartitions) _values = new ValueTable();
    }

    private QNameTable QNames => _qnames ??= new QNameTable(_g);

    public void Dispose() => _w.Release();

    public byte[] EncodeDocument(ExiElement root)
    {
        WriteHeader();
        int n = _g.GlobalElements.Length;
        if (_g.GlobalElementIndex.TryGetValue(root.Name, out int i))
        {
            _w.WriteBits((uint)i, _g.DocContentBits);
            EncodeElement(root, _g.GlobalElementGrammars[i]);
        }
        else
        {
            _w.WriteBits((uint)n, _g.DocContentBits);
            WriteQName(root.Name);
            EncodeBuiltIn(root);
        }
        return _w.ToArray();
    }

    public byte[] EncodeFragment(IEnumerable<ExiElement> elements)
    {
        WriteHeader();
        int n = _g.FragmentElements.Length;
        foreach (var el in elements)
        {
            if (_g.FragmentElementIndex.TryGetValue(el.Name, out int i))
            {
                _w.WriteBits((uint)i, _g.FragmentContentBits);
                EncodeElement(el, _g.FragmentElementGrammars[i]);
            }
            else
            {
                _w.WriteBits((uint)n, _g.FragmentContentBits);
                WriteQName(el.Name);
                EncodeAny(el);
            }
        }
        _w.WriteBits((uint)(n + 1), _g.FragmentContentBits);
        return _w.ToArray();
    }

    private void WriteHeader() => _w.WriteBits(0x80, 8); // distinguishing bits 10, no options, final version 1 (§5)

    private static string Describe(GrammarState st) =>
        st.Productions.Length == 0 ? "nothing" : string.Join(", ", st.Productions.Select(p => p.ToString()));

    private void WriteCode(GrammarState st, int index) => _w.WriteBits((uint)index, st.Bits);

    private bool TryWriteSecond(GrammarState st, SecondLevelEvent ev)
    {
        int i = Array.IndexOf(st.Second, ev);
        if (i < 0) return false;
        _w.WriteBits((uint)st.Productions.Length, st.Bits);
        _w.WriteBits((uint)i, st.SecondBits);
        return true;
    }

    // ---------------------------------------------------------------- elements

    /// <summary>The path of the element being encoded, built only when an error is reported.</summary>
    private string Path => "/" + string.Join("/", _path);

    private void EncodeElement(ExiElement el, TypeGrammar grammar)
    {
        _path.Add(el.Name.LocalName);
        if (++_depth > 1000) throw new ExiEncodeException(Path, "element nesting too deep");
        var states = grammar.States;
        int s = 0;

        if (el.XsiType is { } xsiType)
        {
            if (!TryWriteSecond(states[0], SecondLevelEvent.XsiType)) throw new ExiEncodeException(Path, "xsi:type is not allowed here (strict grammar, type has no sub-types)");
            WriteQName(xsiType);
            if (!_g.NamedTypes.TryGetValue(xsiType, out var cast)) throw new ExiEncodeException(Path, $"xsi:type names an unknown type {xsiType}");
            grammar = cast;
            states = grammar.States;
        }
        if (el.XsiNil is { } nil)
        {
            if (!TryWriteSecond(states[0], SecondLevelEvent.XsiNil)) throw new ExiEncodeException(Path, "xsi:nil is not allowed here (element is not nillable)");
            _w.WriteBits(nil ? 1u : 0u, 1);
            if (nil && grammar.Empty != null)
            {
                grammar = grammar.Empty;
                states = grammar.States;
            }
        }

        var attrs = el.AttributesOrNull;
        if (attrs != null && attrs.Count > 0)
        {
            if (!IsSorted(attrs)) { attrs = new List<ExiAttribute>(attrs); attrs.Sort((a, b) => a.Name.CompareTo(b.Name)); }
            foreach (var a in attrs) s = EncodeAttribute(states, s, a);
        }

        bool wroteContent = false;
        if (!el.Value.IsNone)
        {
            var st = states[s];
            int ci = st.CharIndex;
            if (ci >= 0)
            {
                var p = st.Productions[ci];
                WriteCode(st, ci);
                if (p.Type == EventType.CharactersTyped) WriteValue(p.Datatype!, el.Value, el.Name, null);
                else WriteString(el.Value.ToString(), el.Name);
                s = p.Next;
                wroteContent = true;
            }
            else if (!(el.Value.Kind == ExiValueKind.String && IsWhitespace(el.Value.AsString())))
            {
                throw new ExiEncodeException(Path, $"character content is not allowed here; expected {Describe(st)}");
            }
        }

        var children = el.ChildrenOrNull;
        if (children != null)
        {
            for (int ci = 0; ci < children.Count; ci++)
            {
                var child = children[ci];
                if (child is ExiElement c) s = EncodeChild(states, s, c);
                else if (child is ExiText t)
                {
                    var st = states[s];
                    int chi = st.CharIndex;
                    if (chi >= 0)
                    {
                        var p = st.Productions[chi];
                        WriteCode(st, chi);
                        if (p.Type == EventType.CharactersTyped) WriteValue(p.Datatype!, ExiValue.FromString(t.Text), el.Name, null);
                        else WriteString(t.Text, el.Name);
                        s = p.Next;
                        wroteContent = true;
                    }
                    else if (IsWhitespace(t.Text))
                    {
                        // Whitespace between child elements of element-only content is not data.
                    }
                    else throw new ExiEncodeException(Path, $"text is not allowed here; expected {Describe(st)}");
                }
            }
        }

        var end = states[s];
        if (end.EndIndex < 0 && !wroteContent && end.CharIndex >= 0 && end.Productions[end.CharIndex] is { Type: EventType.CharactersTyped } chp
            && CanBeEmpty(chp.Datatype!))
        {
            // An empty string/binary/list still travels as a CH event: that is what the typed grammar requires.
            WriteCode(end, end.CharIndex);
            WriteValue(chp.Datatype!, ExiValue.FromString(""), el.Name, null);
            s = chp.Next;
            end = states[s];
        }
        // Undeclared EE (an element ended early) would be a deviation: this encoder writes valid documents only.
        if (end.EndIndex < 0) throw new ExiEncodeException(Path, $"element is incomplete; expected {Describe(end)}");
        WriteCode(end, end.EndIndex);
        _depth--;
        _path.RemoveAt(_path.Count - 1);
    }

    private static bool CanBeEmpty(Datatype dt) => dt.Kind switch
    {
        DatatypeKind.String or DatatypeKind.Base64Binary or DatatypeKind.HexBinary or DatatypeKind.List => true,
        DatatypeKind.Enumeration => dt.EnumIndex!.ContainsKey(""),
        _ => false,
    };

    private static bool IsSorted(List<ExiAttribute> attrs)
    {
        for (int i = 1; i < attrs.Count; i++)
            if (attrs[i - 1].Name.CompareTo(attrs[i].Name) > 0) return false;
        return true;
    }

    private static bool IsWhitespace(string s)
    {
        foreach (char c in s)
            if (c is not (' ' or '\t' or '\r' or '\n')) return false;
        return true;
    }

    private int EncodeAttribute(GrammarState[] states, int s, ExiAttribute a)
    {
        var st = states[s];
        var prods = st.Productions;
        for (int i = 0; i < prods.Length; i++)
        {
            var p = prods[i];
            if (p.Type == EventType.Attribute && p.Name == a.Name)
            {
                WriteCode(st, i);
                WriteValue(p.Datatype!, a.Value, a.Name, "@" + a.Name.LocalName);
                return p.Next;
            }
        }
        for (int i = 0; i < prods.Length; i++)
        {
            var p = prods[i];
            if ((p.Type == EventType.AttributeNs && p.Name.Namespace == a.Name.Namespace) || p.Type == EventType.AttributeAny)
            {
                WriteCode(st, i);
                if (p.Type == EventType.AttributeNs) WriteLocalName(QNames.FindUri(a.Name.Namespace) is var u and >= 0 ? u : QNames.AddUri(a.Name.Namespace), a.Name.LocalName);
                else WriteQName(a.Name);
                WriteAnyAttributeValue(a);
                return p.Next;
            }
        }
        throw new ExiEncodeException(Path, $"attribute {a.Name} is not allowed here; expected {Describe(st)}");
    }

    private void WriteAnyAttributeValue(ExiAttribute a)
    {
        var dt = _g.GlobalAttributes.TryGetValue(a.Name, out var d) ? d : Datatype.UntypedString;
        WriteValue(dt, a.Value, a.Name, "@" + a.Name.LocalName);
    }

    private int EncodeChild(GrammarState[] states, int s, ExiElement c)
    {
        var st = states[s];
        var prods = st.Productions;
        for (int i = 0; i < prods.Length; i++)
        {
            var p = prods[i];
            if (p.Type == EventType.StartElement && p.Name == c.Name)
            {
                WriteCode(st, i);
                EncodeElement(c, p.Element!);
                return p.Next;
            }
        }
        for (int i = 0; i < prods.Length; i++)
        {
            var p = prods[i];
            if ((p.Type == EventType.StartElementNs && p.Name.Namespace == c.Name.Namespace) || p.Type == EventType.StartElementAny)
            {
                WriteCode(st, i);
                if (p.Type == EventType.StartElementNs) WriteLocalName(QNames.FindUri(c.Name.Namespace) is var u and >= 0 ? u : QNames.AddUri(c.Name.Namespace), c.Name.LocalName);
                else WriteQName(c.Name);
                EncodeAny(c);
                return p.Next;
            }
        }
        throw new ExiEncodeException(Path + "/" + c.Name.LocalName, $"element {c.Name} is not allowed here; expected {Describe(st)}");
    }

    private void EncodeAny(ExiElement c)
    {
        if (_g.GlobalElementIndex.TryGetValue(c.Name, out int gi)) EncodeElement(c, _g.GlobalElementGrammars[gi]);
        else EncodeBuiltIn(c);
    }

    // ---------------------------------------------------------------- built-in grammar (§8.4.3)

    private void EncodeBuiltIn(ExiElement el)
    {
        _path.Add(el.Name.LocalName);
        if (++_depth > 1000) throw new ExiEncodeException(Path, "element nesting too deep");
        _builtIns ??= new Dictionary<QName, BuiltInGrammar>();
        if (!_builtIns.TryGetValue(el.Name, out var bg)) _builtIns[el.Name] = bg = new BuiltInGrammar();
        bool start = true;

        if (el.XsiType is { } xt) { BuiltInStart(bg, new LearnedProduction(EventType.Attribute, new QName(XsiNs, "type"))); WriteQName(xt); }
        if (el.XsiNil is { } nil) { BuiltInStart(bg, new LearnedProduction(EventType.Attribute, new QName(XsiNs, "nil"))); _w.WriteBits(nil ? 1u : 0u, 1); }
        var attrs = el.AttributesOrNull;
        if (attrs != null)
        {
            foreach (var a in attrs)
            {
                BuiltInStart(bg, new LearnedProduction(EventType.Attribute, a.Name));
                WriteAnyAttributeValue(a);
            }
        }
        if (!el.Value.IsNone)
        {
            BuiltInEvent(bg, ref start, new LearnedProduction(EventType.CharactersUntyped, default));
            WriteString(el.Value.ToString(), el.Name);
        }
        var children = el.ChildrenOrNull;
        if (children != null)
        {
            foreach (var child in children)
            {
                if (child is ExiElement c)
                {
                    BuiltInEvent(bg, ref start, new LearnedProduction(EventType.StartElement, c.Name));
                    EncodeAny(c);
                }
                else if (child is ExiText t)
                {
                    BuiltInEvent(bg, ref start, new LearnedProduction(EventType.CharactersUntyped, default));
                    WriteString(t.Text, el.Name);
                }
            }
        }
        BuiltInEvent(bg, ref start, new LearnedProduction(EventType.EndElement, default));
        _depth--;
        _path.RemoveAt(_path.Count - 1);
    }

    private void BuiltInStart(BuiltInGrammar bg, LearnedProduction p)
    {
        bool start = true;
        BuiltInEvent(bg, ref start, p);
    }

    private void BuiltInEvent(BuiltInGrammar bg, ref bool start, LearnedProduction p)
    {
        var list = start ? bg.StartTag : bg.Content;
        int bits = GrammarBuilder.BitsFor(list.Count + 1);
        int idx = list.IndexOf(p);
        if (idx >= 0)
        {
            _w.WriteBits((uint)idx, bits);
        }
        else
        {
            _w.WriteBits((uint)list.Count, bits);
            if (start)
            {
                int c2 = p.Type switch
                {
                    EventType.EndElement => BuiltInGrammar.StartSecondEnd,
                    EventType.Attribute => BuiltInGrammar.StartSecondAttribute,
                    EventType.StartElement => BuiltInGrammar.StartSecondElement,
                    _ => BuiltInGrammar.StartSecondCharacters,
                };
                _w.WriteBits((uint)c2, BuiltInGrammar.StartSecondBits);
            }
            else
            {
                _w.WriteBits(p.Type == EventType.StartElement ? (uint)BuiltInGrammar.ContentSecondElement : (uint)BuiltInGrammar.ContentSecondCharacters, BuiltInGrammar.ContentSecondBits);
            }
            if (p.Type is EventType.Attribute or EventType.StartElement) WriteQName(p.Name);
            BuiltInGrammar.Learn(list, p);
        }
        if (p.Type is EventType.StartElement or EventType.CharactersUntyped) start = false;
    }

    // ---------------------------------------------------------------- qnames

    private void WriteQName(QName q)
    {
        if (q.Namespace == "http://www.w3.org/2000/xmlns/") throw new ExiEncodeException(Path, "names in the xmlns namespace are namespace declarations, not content");
        var t = QNames;
        int bits = GrammarBuilder.BitsFor(t.UriCount + 1);
        int uri = t.FindUri(q.Namespace);
        if (uri >= 0) _w.WriteBits((uint)(uri + 1), bits);
        else
        {
            _w.WriteBits(0, bits);
            WriteLiteralChars(q.Namespace, 0);
            uri = t.AddUri(q.Namespace);
        }
        WriteLocalName(uri, q.LocalName);
    }

    private void WriteLocalName(int uri, string name)
    {
        var t = QNames;
        int id = t.FindLocal(uri, name);
        if (id >= 0)
        {
            _w.WriteUnsigned(0);
            _w.WriteBits((uint)id, GrammarBuilder.BitsFor(t.LocalCount(uri)));
            return;
        }
        if (!IsNCName(name)) throw new ExiEncodeException(Path, $"'{Truncate(name)}' is not a valid XML local name");
        WriteLiteralChars(name, 1);
        t.AddLocal(uri, name);
    }

    private static bool IsNCName(string s)
    {
        if (s.Length == 0) return false;
        try
        {
            System.Xml.XmlConvert.VerifyNCName(s);
            return true;
        }
        catch (System.Xml.XmlException)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- values

    /// <summary>Writes a typed value; <paramref name="where"/> names the attribute (or null for content) in error messages.</summary>
    private void WriteValue(Datatype dt, ExiValue v, QName owner, string? where)
    {
        try
        {
            WriteValueCore(dt, v, owner);
        }
        catch (ExiEncodeException ex) when (ex.Path.Length == 0)
        {
            throw new ExiEncodeException(ValuePath(where), ex.Reason, ex);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new ExiEncodeException(ValuePath(where), $"value '{Truncate(v.ToString())}' is not a valid {dt.TypeName}: {ex.Message}", ex);
        }
    }

    private string ValuePath(string? where) => where == null ? Path : Path + "/" + where;

    private static string Truncate(string s) => s.Length > 80 ? s[..80] + "…" : s;

    private void WriteValueCore(Datatype dt, ExiValue v, QName owner)
    {
        switch (dt.Kind)
        {
            case DatatypeKind.String:
                // Strings travel exactly as given (no whitespace normalization), so decoded values re-encode identically.
                WriteString(v.Kind == ExiValueKind.String ? v.AsString() : v.ToString(), owner);
                return;
            case DatatypeKind.Base64Binary:
            case DatatypeKind.HexBinary:
            {
                byte[] bytes = v.Kind == ExiValueKind.Binary ? v.AsBytes() : ParseBinary(dt, v.AsString());
                _w.WriteUnsigned((ulong)bytes.Length);
                _w.WriteBytes(bytes);
                return;
            }
            case DatatypeKind.Boolean:
            {
                bool b = v.Kind == ExiValueKind.Boolean ? v.AsBoolean() : Values.ParseBoolean(v.ToString()) ?? throw new FormatException("expected true, false, 1 or 0");
                _w.WriteBits(b ? 1u : 0u, 1);
                return;
            }
            case DatatypeKind.NBitInteger:
            {
                long x = ToInt64(v);
                CheckBounds(dt, x);
                _w.WriteBits((uint)(x - dt.Min), dt.Bits);
                return;
            }
            case DatatypeKind.UnsignedInteger:
            {
                if (v.Kind == ExiValueKind.Integer)
                {
                    long x = v.AsInt64();
                    CheckBounds(dt, x);
                    _w.WriteUnsigned((ulong)x);
                }
                else
                {
                    BigInteger x = ToBig(v);
                    CheckBounds(dt, x);
                    _w.WriteUnsigned(x);
                }
                return;
            }
            case DatatypeKind.Integer:
            {
                if (v.Kind == ExiValueKind.Integer)
                {
                    long x = v.AsInt64();
                    CheckBounds(dt, x);
                    // §7.1.5: sign bit, then magnitude (minus one when negative).
                    if (x < 0) { _w.WriteBits(1, 1); _w.WriteUnsigned((ulong)(-(x + 1))); }
                    else { _w.WriteBits(0, 1); _w.WriteUnsigned((ulong)x); }
                }
                else
                {
                    BigInteger x = ToBig(v);
                    CheckBounds(dt, x);
                    if (x.Sign < 0) { _w.WriteBits(1, 1); _w.WriteUnsigned(-(x + 1)); }
                    else { _w.WriteBits(0, 1); _w.WriteUnsigned(x); }
                }
                return;
            }
            case DatatypeKind.Enumeration:
            {
                string key = v.ToString();
                if (!dt.PreserveWhitespace) key = Values.Collapse(key);
                if (!dt.EnumIndex!.TryGetValue(key, out int idx))
                {
                    idx = FindCanonicalEnum(dt, key);
                    if (idx < 0) throw new ExiEncodeException("", $"'{Truncate(key)}' is not one of the values of {dt.TypeName}");
                }
                _w.WriteBits((uint)idx, dt.Bits);
                return;
            }
            case DatatypeKind.Decimal:
            {
                if (!Values.TryParseDecimal(v.ToString(), out bool neg, out BigInteger ip, out string frac)) throw new FormatException("not a decimal");
                _w.WriteBits(neg ? 1u : 0u, 1);
                _w.WriteUnsigned(ip);
                var arr = frac.ToCharArray();
                Array.Reverse(arr);
                _w.WriteUnsigned(arr.Length == 0 ? BigInteger.Zero : BigInteger.Parse(new string(arr), CultureInfo.InvariantCulture));
                return;
            }
            case DatatypeKind.Float:
            {
                long m; int e;
                if (v.Kind == ExiValueKind.Float) { m = v.FloatMantissa; e = v.FloatExponent; }
                else if (!Values.TryParseFloatLexical(v.ToString(), out m, out e)) throw new FormatException("not a float");
                WriteSigned(m);
                WriteSigned(e);
                return;
            }
            case DatatypeKind.DateTime:
                WriteDateTime(dt.DateTimeType, Values.Collapse(v.ToString()));
                return;
            case DatatypeKind.List:
            {
                IReadOnlyList<ExiValue> items = v.Kind == ExiValueKind.List
                    ? v.AsList()
                    : Values.Collapse(v.ToString()).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ExiValue.FromString).ToArray();
                _w.WriteUnsigned((ulong)items.Count);
                foreach (var item in items) WriteValueCore(dt.Item!, item, owner);
                return;
            }
        }
    }

    private static int FindCanonicalEnum(Datatype dt, string key)
    {
        // Numeric enumerations may be written in another lexical form ("+1", "01").
        if (dt.EnumBase is { Kind: DatatypeKind.NBitInteger or DatatypeKind.UnsignedInteger or DatatypeKind.Integer }
            && BigInteger.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var k))
        {
            for (int i = 0; i < dt.EnumValues.Length; i++)
                if (BigInteger.TryParse(dt.EnumValues[i].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e) && e == k) return i;
        }
        return -1;
    }

    private void WriteSigned(long x)
    {
        if (x < 0) { _w.WriteBits(1, 1); _w.WriteUnsigned((ulong)(-(x + 1))); }
        else { _w.WriteBits(0, 1); _w.WriteUnsigned((ulong)x); }
    }

    private static byte[] ParseBinary(Datatype dt, string s)
    {
        s = Values.RemoveWhitespace(s);
        if (dt.Kind == DatatypeKind.HexBinary) return Convert.FromHexString(s);
        if (!Values.TryParseBase64(s, out var bytes)) throw new FormatException("invalid base64");
        return bytes;
    }

    private static long ToInt64(ExiValue v) => v.Kind switch
    {
        ExiValueKind.Integer => v.AsInt64(),
        ExiValueKind.BigInteger => (long)v.AsBigInteger(),
        _ => long.Parse(Values.Collapse(v.ToString()), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
    };

    private static BigInteger ToBig(ExiValue v) => v.Kind switch
    {
        ExiValueKind.Integer or ExiValueKind.BigInteger => v.AsBigInteger(),
        _ => BigInteger.Parse(Values.Collapse(v.ToString()), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
    };

    private static void CheckBounds(Datatype dt, long x)
    {
        if ((dt.LowerBound is { } lo && x < lo) || (dt.UpperBound is { } hi && x > hi))
            throw new ExiEncodeException("", $"{x} is outside the range of {dt.TypeName} [{dt.LowerBound}, {dt.UpperBound}]");
    }

    private static void CheckBounds(Datatype dt, BigInteger x)
    {
        if ((dt.LowerBound is { } lo && x < lo) || (dt.UpperBound is { } hi && x > hi))
            throw new ExiEncodeException("", $"{x} is outside the range of {dt.TypeName} [{dt.LowerBound}, {dt.UpperBound}]");
    }

    private void WriteDateTime(DateTimeType type, string s)
    {
        var d = DateTimeLexical.Parse(type, s);
        if (type is DateTimeType.GYear or DateTimeType.GYearMonth or DateTimeType.Date or DateTimeType.DateTime)
            WriteSigned(d.Year - 2000);
        if (type is DateTimeType.GYearMonth or DateTimeType.Date or DateTimeType.DateTime or DateTimeType.GMonth or DateTimeType.GMonthDay or DateTimeType.GDay)
            _w.WriteBits((uint)(d.Month * 32 + d.Day), 9);
        if (type is DateTimeType.DateTime or DateTimeType.Time)
        {
            _w.WriteBits((uint)((d.Hour * 64 + d.Minute) * 64 + d.Second), 17);
            if (d.Fraction.Length > 0)
            {
                _w.WriteBits(1, 1);
                var arr = d.Fraction.ToCharArray();
                Array.Reverse(arr);
                _w.WriteUnsigned(BigInteger.Parse(new string(arr), CultureInfo.InvariantCulture));
            }
            else _w.WriteBits(0, 1);
        }
        if (d.TimeZoneMinutes is { } tz)
        {
            _w.WriteBits(1, 1);
            int sign = tz < 0 ? -1 : 1;
            int a = Math.Abs(tz);
            _w.WriteBits((uint)(sign * ((a / 60) * 64 + a % 60) + 896), 11);
        }
        else _w.WriteBits(0, 1);
    }

    private void WriteString(string s, QName owner)
    {
        if (_values != null)
        {
            int li = _values.FindLocal(owner, s);
            if (li >= 0)
            {
                _w.WriteUnsigned(0);
                _w.WriteBits((uint)li, GrammarBuilder.BitsFor(_values.LocalCount(owner)));
                return;
            }
            int gi = _values.FindGlobal(s);
            if (gi >= 0)
            {
                _w.WriteUnsigned(1);
                _w.WriteBits((uint)gi, GrammarBuilder.BitsFor(_values.GlobalCount));
                return;
            }
            WriteLiteralChars(s, 2);
            if (s.Length > 0) _values.Add(owner, s);
            return;
        }
        WriteLiteralChars(s, 2);
    }

    /// <summary>Length (code points + <paramref name="offset"/>) then each code point as an Unsigned Integer (§7.1.10).</summary>
    private void WriteLiteralChars(string s, int offset)
    {
        int cps = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                    throw new ExiEncodeException("", "string contains an unpaired surrogate");
                i++;
            }
            cps++;
        }
        _w.WriteUnsigned((ulong)(cps + offset));
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c < 0x80) { _w.WriteBits(c, 8); continue; }
            int cp = c;
            if (char.IsHighSurrogate(c)) cp = char.ConvertToUtf32(c, s[++i]);
            _w.WriteUnsigned((ulong)cp);
        }
    }
}
