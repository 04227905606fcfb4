using System.Globalization;
using System.Numerics;
using System.Text;
using PlugAndCharge.Exi.Grammar;
using PlugAndCharge.Exi.IO;

namespace PlugAndCharge.Exi;

/// <summary>
/// Decodes one EXI stream (document or fragment) with a compiled schema grammar. One instance per stream:
/// it owns the stream's string table and learned built-in grammars. Every failure is an <see cref="ExiDecodeException"/>.
/// </summary>
internal sealed class ExiDecoder
{
    private const string XsiNs = "http://www.w3.org/2001/XMLSchema-instance";

    private readonly SchemaGrammar _g;
    private readonly ExiOptions _o;
    private readonly BitReader _r;
    private readonly int _maxDepth;
    private QNameTable? _qnames;
    private ValueTable? _values;
    private Dictionary<QName, BuiltInGrammar>? _builtIns;
    private int _depth;
    private long _eventBudget;
    private char[]? _chars;

    public ExiDecoder(SchemaGrammar g, ExiOptions o, byte[] buffer, int offset, int length)
    {
        _g = g;
        _o = o;
        _r = new BitReader(buffer, offset, length);
        _maxDepth = o.MaxDepth;
        if (o.ValuePartitions) _values = new ValueTable();
        // Every event costs at least one bit except in single-production states; this bounds the work on any input.
        _eventBudget = (long)length * 16 + 4096;
    }

    private QNameTable QNames => _qnames ??= new QNameTable(_g);

    public ExiElement DecodeDocument()
    {
        ReadHeader();
        // Document : SD DocContent (SD has a single production: 0 bits), DocContent : SE(G0..Gn-1) | SE(*) (§8.5.1).
        int n = _g.GlobalElements.Length;
        int code = _r.ReadBits(_g.DocContentBits);
        ExiElement root;
        if (code < n) root = DecodeElement(_g.GlobalElements[code], _g.GlobalElementGrammars[code]);
        else if (code == n) root = DecodeAnyElement(ReadQName());
        else throw _r.Error($"invalid event code {code} in DocContent");
        // DocEnd : ED (single production, 0 bits).
        CheckEnd();
        return root;
    }

    public List<ExiElement> DecodeFragment()
    {
        ReadHeader();
        var result = new List<ExiElement>(1);
        int n = _g.FragmentElements.Length;
        while (true)
        {
            // FragmentContent : SE(F0..Fn-1) | SE(*) | ED (§8.5.2).
            int code = _r.ReadBits(_g.FragmentContentBits);
            if (code < n) result.Add(DecodeElement(_g.FragmentElements[code], _g.FragmentElementGrammars[code]));
            else if (code == n) result.Add(DecodeAnyElement(ReadQName()));
            else if (code == n + 1) break;
            else throw _r.Error($"invalid event code {code} in FragmentContent");
            Spend();
        }
        CheckEnd();
        return result;
    }

    private void ReadHeader()
    {
        // EXI 1.0 §5: optional "$EXI" cookie, distinguishing bits 10, options presence, version (0 0000 = final 1).
        if (_r.RemainingBits >= 32)
        {
            long at = _r.Position;
            int c = _r.ReadBits(32);
            if (c != 0x24455849) _r.Rewind(at);
        }
        int header = _r.ReadBits(8);
        if ((header & 0xC0) != 0x80) throw _r.Error("not an EXI stream (distinguishing bits are not 10)");
        if ((header & 0x20) != 0) throw _r.Error("EXI options in the header are not supported (ISO 15118 carries none)");
        if ((header & 0x10) != 0) throw _r.Error("preview EXI versions are not supported");
        if ((header & 0x0F) != 0) throw _r.Error($"unsupported EXI version {(header & 0x0F) + 1}");
    }

    private void CheckEnd()
    {
        // Only zero padding may follow the last event (§5: the stream is padded to a byte boundary).
        long rest = _r.RemainingBits;
        if (rest >= 8) throw _r.Error($"{rest / 8} byte(s) of trailing data after the end of the EXI body");
        if (rest > 0 && _r.ReadBits((int)rest) != 0) throw _r.Error("non-zero padding bits");
    }

    private void Spend()
    {
        if (--_eventBudget < 0) throw _r.Error("event budget exhausted (input does not make progress)");
    }

    // ---------------------------------------------------------------- schema-informed elements

    private ExiElement DecodeElement(QName name, TypeGrammar grammar)
    {
        if (++_depth > _maxDepth) throw _r.Error($"element nesting deeper than {_maxDepth}");
        var el = new ExiElement(name);
        var states = grammar.States;
        int s = 0;
        while (true)
        {
            Spend();
            var st = states[s];
            int code = _r.ReadBits(st.Bits);
            var prods = st.Productions;
            if ((uint)code < (uint)prods.Length)
            {
                var p = prods[code];
                switch (p.Type)
                {
                    case EventType.Attribute:
                        el.Attributes.Add(new ExiAttribute(p.Name, ReadValue(p.Datatype!, p.Name)));
                        s = p.Next;
                        break;
                    case EventType.StartElement:
                        el.Children.Add(DecodeElement(p.Name, p.Element!));
                        s = p.Next;
                        break;
                    case EventType.EndElement:
                        _depth--;
                        return el;
                    case EventType.CharactersTyped:
                        el.Value = ReadValue(p.Datatype!, name);
                        s = p.Next;
                        break;
                    case EventType.CharactersUntyped:
                        el.Children.Add(new ExiText(ReadString(name)));
                        s = p.Next;
                        break;
                    case EventType.StartElementNs:
                        el.Children.Add(DecodeAnyElement(ReadQNameInUri(p.Name.Namespace)));
                        s = p.Next;
                        break;
                    case EventType.StartElementAny:
                        el.Children.Add(DecodeAnyElement(ReadQName()));
                        s = p.Next;
                        break;
                    case EventType.AttributeNs:
                        ReadAnyAttribute(el, ReadQNameInUri(p.Name.Namespace));
                        s = p.Next;
                        break;
                    case EventType.AttributeAny:
                        ReadAnyAttribute(el, ReadQName());
                        s = p.Next;
                        break;
                }
                continue;
            }
            if (code != prods.Length || st.Second.Length == 0)
                throw _r.Error($"invalid event code {code} in {grammar.Name} state {s}");

            int c2 = _r.ReadBits(st.SecondBits);
            if (c2 >= st.Second.Length) throw _r.Error($"invalid second-level event code {code}.{c2} in {grammar.Name}");
            switch (st.Second[c2])
            {
                case SecondLevelEvent.EndElement:
                    _depth--;
                    return el;
                case SecondLevelEvent.XsiType:
                {
                    var typeName = ReadQName();
                    el.XsiType = typeName;
                    if (!_g.NamedTypes.TryGetValue(typeName, out var cast)) throw _r.Error($"xsi:type names an unknown type {typeName}");
                    grammar = cast;
                    states = grammar.States;
                    s = 0;
                    break;
                }
                case SecondLevelEvent.XsiNil:
                {
                    bool nil = _r.ReadBits(1) != 0;
                    el.XsiNil = nil;
                    if (nil && grammar.Empty != null)
                    {
                        grammar = grammar.Empty;
                        states = grammar.States;
                        s = 0;
                    }
                    break;
                }
                case SecondLevelEvent.AttributeAny:
                    ReadAnyAttribute(el, ReadQName());
                    break;
                case SecondLevelEvent.AttributeInvalid:
                    throw _r.Error("attribute with a value invalid for its declared type (AT [untyped value]) is not supported");
                case SecondLevelEvent.StartElementAny:
                    el.Children.Add(DecodeAnyElement(ReadQName()));
                    s = st.ContentState;
                    break;
                case SecondLevelEvent.CharactersUntyped:
                    el.Children.Add(new ExiText(ReadString(name)));
                    s = st.ContentState;
                    break;
            }
        }
    }

    private void ReadAnyAttribute(ExiElement el, QName q)
    {
        if (q.Namespace == XsiNs)
        {
            if (q.LocalName == "type") { el.XsiType = ReadQName(); return; }
            if (q.LocalName == "nil") { el.XsiNil = _r.ReadBits(1) != 0; return; }
        }
        if (q.Namespace.Length == 0 && q.LocalName == "xmlns") throw _r.Error("an attribute named xmlns is a namespace declaration, not an attribute");
        var dt = _g.GlobalAttributes.TryGetValue(q, out var d) ? d : Datatype.UntypedString;
        el.Attributes.Add(new ExiAttribute(q, ReadValue(dt, q)));
    }

    /// <summary>SE(*): a declared global element uses its grammar, anything else the built-in grammar (§8.4.3).</summary>
    private ExiElement DecodeAnyElement(QName q)
    {
        if (_g.GlobalElementIndex.TryGetValue(q, out int i)) return DecodeElement(q, _g.GlobalElementGrammars[i]);
        return DecodeBuiltIn(q);
    }

    private BuiltInGrammar BuiltIn(QName q)
    {
        _builtIns ??= new Dictionary<QName, BuiltInGrammar>();
        if (!_builtIns.TryGetValue(q, out var b)) _builtIns[q] = b = new BuiltInGrammar();
        return b;
    }

    private ExiElement DecodeBuiltIn(QName name)
    {
        if (++_depth > _maxDepth) throw _r.Error($"element nesting deeper than {_maxDepth}");
        var bg = BuiltIn(name);
        var el = new ExiElement(name);
        bool start = true;
        while (true)
        {
            Spend();
            var list = start ? bg.StartTag : bg.Content;
            int code = _r.ReadBits(GrammarBuilder.BitsFor(list.Count + 1));
            LearnedProduction p;
            if (code < list.Count)
            {
                p = list[code];
            }
            else if (code > list.Count)
            {
                throw _r.Error($"invalid event code {code} in built-in grammar of {name}");
            }
            else if (start)
            {
                int c2 = _r.ReadBits(BuiltInGrammar.StartSecondBits);
                switch (c2)
                {
                    case BuiltInGrammar.StartSecondEnd: p = new LearnedProduction(EventType.EndElement, default); break;
                    case BuiltInGrammar.StartSecondAttribute: p = new LearnedProduction(EventType.Attribute, ReadQName()); break;
                    case BuiltInGrammar.StartSecondElement: p = new LearnedProduction(EventType.StartElement, ReadQName()); break;
                    default: p = new LearnedProduction(EventType.CharactersUntyped, default); break;
                }
                BuiltInGrammar.Learn(bg.StartTag, p);
            }
            else
            {
                int c2 = _r.ReadBits(BuiltInGrammar.ContentSecondBits);
                p = c2 == BuiltInGrammar.ContentSecondElement
                    ? new LearnedProduction(EventType.StartElement, ReadQName())
                    : new LearnedProduction(EventType.CharactersUntyped, default);
                BuiltInGrammar.Learn(bg.Content, p);
            }

            switch (p.Type)
            {
                case EventType.EndElement:
                    _depth--;
                    return el;
                case EventType.Attribute:
                    ReadAnyAttribute(el, p.Name);
                    break;
                case EventType.StartElement:
                    el.Children.Add(DecodeAnyElement(p.Name));
                    start = false;
                    break;
                default:
                    el.Children.Add(new ExiText(ReadString(name)));
                    start = false;
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- qnames (§7.1.7, §7.3.2)

    private const string XmlnsNs = "http://www.w3.org/2000/xmlns/";

    private QName ReadQName()
    {
        var t = QNames;
        int bits = GrammarBuilder.BitsFor(t.UriCount + 1);
        int u = _r.ReadBits(bits);
        int uri;
        if (u == 0)
        {
            string s = ReadChars(_r.ReadLength());
            uri = t.FindUri(s);
            if (uri < 0) uri = t.AddUri(s);
        }
        else
        {
            uri = u - 1;
            if (uri >= t.UriCount) throw _r.Error($"uri compact identifier {uri} out of range");
        }
        string uriString = t.Uri(uri);
        // Namespace declarations are not attributes or elements of the infoset EXI carries.
        if (uriString == XmlnsNs) throw _r.Error("qualified name in the xmlns namespace");
        return new QName(uriString, ReadLocalName(uri));
    }

    private QName ReadQNameInUri(string uriString)
    {
        var t = QNames;
        int uri = t.FindUri(uriString);
        if (uri < 0) uri = t.AddUri(uriString);
        return new QName(uriString, ReadLocalName(uri));
    }

    private string ReadLocalName(int uri)
    {
        var t = QNames;
        int len = _r.ReadLength();
        if (len == 0)
        {
            int count = t.LocalCount(uri);
            int id = _r.ReadBits(GrammarBuilder.BitsFor(count));
            if (id >= count) throw _r.Error($"local-name compact identifier {id} out of range");
            return t.Local(uri, id);
        }
        string name = ReadChars(len - 1);
        // An EXI stream carries an XML infoset: a local name must be an NCName, or the document is not XML.
        if (!IsNCName(name)) throw _r.Error("local name is not a valid XML NCName");
        t.AddLocal(uri, name);
        return name;
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

    // ---------------------------------------------------------------- values (§7.1)

    private ExiValue ReadValue(Datatype dt, QName owner)
    {
        switch (dt.Kind)
        {
            case DatatypeKind.String:
                return ExiValue.FromString(ReadString(owner));
            case DatatypeKind.Base64Binary:
            case DatatypeKind.HexBinary:
            {
                int len = _r.ReadLength();
                return ExiValue.FromBytes(_r.ReadBytes(len), dt.Kind == DatatypeKind.HexBinary);
            }
            case DatatypeKind.Boolean:
                return ExiValue.FromBoolean(_r.ReadBits(1) != 0);
            case DatatypeKind.NBitInteger:
            {
                long v = dt.Min + _r.ReadBits(dt.Bits);
                if (dt.UpperBound is { } hi && v > hi) throw _r.Error($"value {v} above the maximum of {dt.TypeName}");
                return ExiValue.FromInteger(v);
            }
            case DatatypeKind.UnsignedInteger:
            {
                ulong u = _r.ReadUnsigned(out var big);
                BigInteger v = big ?? u;
                CheckBounds(dt, v);
                return big == null && u <= long.MaxValue ? ExiValue.FromInteger((long)u) : ExiValue.FromInteger(v);
            }
            case DatatypeKind.Integer:
            {
                bool negative = _r.ReadBits(1) != 0;
                ulong u = _r.ReadUnsigned(out var big);
                if (big == null && u < long.MaxValue)
                {
                    long lv = negative ? -(long)u - 1 : (long)u;
                    if (dt.LowerBound != null || dt.UpperBound != null) CheckBounds(dt, lv);
                    return ExiValue.FromInteger(lv);
                }
                BigInteger m = big ?? u;
                BigInteger v = negative ? -m - 1 : m;
                CheckBounds(dt, v);
                return ExiValue.FromInteger(v);
            }
            case DatatypeKind.Enumeration:
            {
                int i = _r.ReadBits(dt.Bits);
                if (i >= dt.EnumValues.Length) throw _r.Error($"enumeration index {i} out of range for {dt.TypeName}");
                return ExiValue.FromString(dt.EnumValues[i]);
            }
            case DatatypeKind.Decimal:
                return ReadDecimal();
            case DatatypeKind.Float:
                return ReadFloat();
            case DatatypeKind.DateTime:
                return ReadDateTime(dt.DateTimeType);
            case DatatypeKind.List:
            {
                int count = _r.ReadLength();
                int minBits = MinBits(dt.Item!);
                if (minBits > 0) _r.EnsureBits((long)count * minBits, "list length");
                else if (count > 1 << 16) throw _r.Error("list too long");
                var items = new ExiValue[count];
                for (int i = 0; i < count; i++) items[i] = ReadValue(dt.Item!, owner);
                return ExiValue.FromList(items);
            }
            default:
                throw _r.Error("unsupported datatype");
        }
    }

    private static int MinBits(Datatype dt) => dt.Kind switch
    {
        DatatypeKind.NBitInteger or DatatypeKind.Enumeration => dt.Bits,
        DatatypeKind.Boolean => 1,
        _ => 8,
    };

    private void CheckBounds(Datatype dt, BigInteger v)
    {
        if (dt.LowerBound is { } lo && v < lo) throw _r.Error($"value {v} below the minimum of {dt.TypeName}");
        if (dt.UpperBound is { } hi && v > hi) throw _r.Error($"value {v} above the maximum of {dt.TypeName}");
    }

    private void CheckBounds(Datatype dt, long v)
    {
        if (dt.LowerBound is { } lo && v < lo) throw _r.Error($"value {v} below the minimum of {dt.TypeName}");
        if (dt.UpperBound is { } hi && v > hi) throw _r.Error($"value {v} above the maximum of {dt.TypeName}");
    }

    private ExiValue ReadDecimal()
    {
        // §7.1.3: sign, integral part, fractional part with its digits reversed.
        bool negative = _r.ReadBits(1) != 0;
        ulong iu = _r.ReadUnsigned(out var ib);
        ulong fu = _r.ReadUnsigned(out var fb);
        BigInteger integral = ib ?? iu;
        string frac = (fb ?? fu).ToString(CultureInfo.InvariantCulture);
        var arr = frac.ToCharArray();
        Array.Reverse(arr);
        frac = new string(arr).TrimEnd('0');
        return ExiValue.FromDecimal(Values.FormatDecimal(negative, integral, frac));
    }

    private long ReadSigned64(string what)
    {
        bool negative = _r.ReadBits(1) != 0;
        ulong u = _r.ReadUnsigned(out var big);
        if (big != null || u > long.MaxValue) throw _r.Error($"{what} out of range");
        return negative ? -(long)u - 1 : (long)u;
    }

    private ExiValue ReadFloat()
    {
        // §7.1.4: mantissa and exponent as Integers; exponent -(2^14) marks the special values.
        long m = ReadSigned64("float mantissa");
        long e = ReadSigned64("float exponent");
        if (e < Values.SpecialExponent || e >= -Values.SpecialExponent) throw _r.Error("float exponent out of range");
        return ExiValue.FromFloat(m, (int)e);
    }

    private ExiValue ReadDateTime(DateTimeType type)
    {
        // §7.1.8, Table 7-3: Year (Integer offset from 2000), MonthDay (9 bits), Time (17 bits),
        // FractionalSecs (presence + reversed digits), TimeZone (presence + 11 bits, offset 896).
        var sb = new StringBuilder(32);
        if (type is DateTimeType.GYear or DateTimeType.GYearMonth or DateTimeType.Date or DateTimeType.DateTime)
        {
            long year = ReadSigned64("year") + 2000;
            if (year is < -999_999_999 or > 999_999_999) throw _r.Error("year out of range");
            if (year < 0) sb.Append('-');
            sb.Append(Math.Abs(year).ToString("0000", CultureInfo.InvariantCulture));
        }
        if (type is DateTimeType.GYearMonth or DateTimeType.Date or DateTimeType.DateTime or DateTimeType.GMonth or DateTimeType.GMonthDay or DateTimeType.GDay)
        {
            int md = _r.ReadBits(9);
            int month = md >> 5, day = md & 31;
            switch (type)
            {
                case DateTimeType.GYearMonth: sb.Append('-').Append(month.ToString("00", CultureInfo.InvariantCulture)); break;
                case DateTimeType.Date:
                case DateTimeType.DateTime: sb.Append('-').Append(month.ToString("00", CultureInfo.InvariantCulture)).Append('-').Append(day.ToString("00", CultureInfo.InvariantCulture)); break;
                case DateTimeType.GMonth: sb.Append("--").Append(month.ToString("00", CultureInfo.InvariantCulture)); break;
                case DateTimeType.GMonthDay: sb.Append("--").Append(month.ToString("00", CultureInfo.InvariantCulture)).Append('-').Append(day.ToString("00", CultureInfo.InvariantCulture)); break;
                case DateTimeType.GDay: sb.Append("---").Append(day.ToString("00", CultureInfo.InvariantCulture)); break;
            }
        }
        if (type is DateTimeType.DateTime or DateTimeType.Time)
        {
            int t = _r.ReadBits(17);
            int h = t >> 12, m = (t >> 6) & 63, s = t & 63;
            if (type == DateTimeType.DateTime) sb.Append('T');
            sb.Append(h.ToString("00", CultureInfo.InvariantCulture)).Append(':').Append(m.ToString("00", CultureInfo.InvariantCulture)).Append(':').Append(s.ToString("00", CultureInfo.InvariantCulture));
            if (_r.ReadBits(1) != 0)
            {
                ulong f = _r.ReadUnsigned(out var fb);
                var digits = (fb ?? f).ToString(CultureInfo.InvariantCulture).ToCharArray();
                Array.Reverse(digits);
                sb.Append('.').Append(digits);
            }
        }
        if (_r.ReadBits(1) != 0)
        {
            int tz = _r.ReadBits(11) - 896;
            if (tz == 0) sb.Append('Z');
            else
            {
                sb.Append(tz < 0 ? '-' : '+');
                tz = Math.Abs(tz);
                sb.Append((tz / 64).ToString("00", CultureInfo.InvariantCulture)).Append(':').Append((tz % 64).ToString("00", CultureInfo.InvariantCulture));
            }
        }
        return ExiValue.FromDateTime(sb.ToString());
    }

    /// <summary>String value (§7.3.3): 0 = local hit, 1 = global hit, otherwise length + 2 and the characters.</summary>
    private string ReadString(QName owner)
    {
        int l = _r.ReadLength();
        if (l >= 2)
        {
            string s = ReadChars(l - 2);
            if (_values != null && s.Length > 0) _values.Add(owner, s);
            return s;
        }
        if (_values == null) throw _r.Error("string table hit, but value partitions are disabled (valuePartitionCapacity = 0)");
        if (l == 0)
        {
            int count = _values.LocalCount(owner);
            int id = _r.ReadBits(GrammarBuilder.BitsFor(count));
            if (id >= count) throw _r.Error($"local value compact identifier {id} out of range");
            return _values.Local(owner, id);
        }
        else
        {
            int count = _values.GlobalCount;
            int id = _r.ReadBits(GrammarBuilder.BitsFor(count));
            if (id >= count) throw _r.Error($"global value compact identifier {id} out of range");
            return _values.Global(id);
        }
    }

    /// <summary>Characters as Unsigned Integer code points (§7.1.10). The count is checked against the input first.</summary>
    private string ReadChars(int count)
    {
        if (count == 0) return string.Empty;
        _r.EnsureBits((long)count * 8, "string length");
        int cap = count * 2;
        var buf = _chars;
        if (buf == null || buf.Length < cap) _chars = buf = new char[Math.Max(cap, 256)];
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            int b = _r.ReadBits(8);
            if (b < 0x80)
            {
                buf[n++] = (char)b;
                continue;
            }
            // Multi-group code point: finish the unsigned integer.
            uint cp = (uint)(b & 0x7F);
            int shift = 7;
            while (true)
            {
                b = _r.ReadBits(8);
                cp |= (uint)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) break;
                shift += 7;
                if (shift > 21) throw _r.Error("character code point too large");
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) throw _r.Error($"invalid character code point U+{cp:X}");
            if (cp >= 0x10000)
            {
                cp -= 0x10000;
                buf[n++] = (char)(0xD800 + (cp >> 10));
                buf[n++] = (char)(0xDC00 + (cp & 0x3FF));
            }
            else buf[n++] = (char)cp;
        }
        return new string(buf, 0, n);
    }
}
