using System.Globalization;
using System.Numerics;
using System.Text;
using PlugAndCharge.Exi.Grammar;

namespace PlugAndCharge.Exi.Tests.Generated;

/// <summary>
/// Generates random valid instances by walking the compiled grammar: every choice, optional element, repetition
/// and value comes from the schema model (facets included), so the instances cover what the grammar allows.
/// Long walks switch to the cheapest way out so every instance stays small.
/// </summary>
internal sealed class InstanceGenerator
{
    private const string XsdNs = "http://www.w3.org/2001/XMLSchema";
    private readonly SchemaGrammar _g;
    private readonly Random _rnd;
    private readonly Dictionary<TypeGrammar, int[]> _cost = new(ReferenceEqualityComparer.Instance);
    private int _wildcardCounter;

    public InstanceGenerator(SchemaGrammar g, int seed)
    {
        _g = g;
        _rnd = new Random(seed);
        ComputeCosts();
    }

    /// <summary>Minimum number of events to finish an element from each state (fixpoint over all grammars).</summary>
    private void ComputeCosts()
    {
        var all = new List<TypeGrammar>();
        var seen = new HashSet<TypeGrammar>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<TypeGrammar>(_g.GlobalElementGrammars.Concat(_g.FragmentElementGrammars).Concat(_g.NamedTypes.Values));
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            all.Add(t);
            if (t.Empty != null) stack.Push(t.Empty);
            foreach (var st in t.States)
                foreach (var p in st.Productions)
                    if (p.Element != null) stack.Push(p.Element);
        }
        foreach (var t in all) _cost[t] = Enumerable.Repeat(int.MaxValue / 4, t.States.Length).ToArray();
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var t in all)
            {
                var c = _cost[t];
                for (int s = t.States.Length - 1; s >= 0; s--)
                {
                    int best = c[s];
                    foreach (var p in t.States[s].Productions)
                    {
                        int v = p.Type switch
                        {
                            EventType.EndElement => 1,
                            EventType.StartElement => 1 + _cost[p.Element!][0] + c[p.Next],
                            EventType.StartElementAny or EventType.StartElementNs => 3 + c[p.Next],
                            _ => 1 + c[p.Next],
                        };
                        if (v < best) best = v;
                    }
                    if (best < c[s]) { c[s] = best; changed = true; }
                }
            }
        }
    }

    public ExiElement Generate(QName name, TypeGrammar grammar, int depth = 0) => GenerateElement(name, grammar, depth);

    private ExiElement GenerateElement(QName name, TypeGrammar grammar, int depth)
    {
        var el = new ExiElement(name);
        var first = grammar.States[0];
        // Occasionally exercise xsi:nil and xsi:type (second-level events).
        if (first.Second.Contains(SecondLevelEvent.XsiType) && grammar.SimpleContent != null && _rnd.Next(30) == 0)
        {
            var castTo = PickBuiltInType();
            el.XsiType = castTo.Key;
            grammar = castTo.Value;
        }
        else if (first.Second.Contains(SecondLevelEvent.XsiNil) && _rnd.Next(40) == 0)
        {
            bool nil = _rnd.Next(2) == 0;
            el.XsiNil = nil;
            if (nil) grammar = grammar.Empty!;
        }

        var cost = _cost[grammar];
        int s = 0;
        int events = 0;
        int patience = depth > 5 ? 0 : _rnd.Next(2, 14);
        while (true)
        {
            var st = grammar.States[s];
            var prods = st.Productions;
            Production p;
            if (events++ >= patience)
            {
                p = prods[0];
                int best = int.MaxValue;
                foreach (var q in prods)
                {
                    int v = q.Type switch
                    {
                        EventType.EndElement => 1,
                        EventType.StartElement => 1 + _cost[q.Element!][0] + cost[q.Next],
                        EventType.StartElementAny or EventType.StartElementNs => 3 + cost[q.Next],
                        _ => 1 + cost[q.Next],
                    };
                    if (v < best) { best = v; p = q; }
                }
            }
            else p = prods[_rnd.Next(prods.Length)];

            switch (p.Type)
            {
                case EventType.EndElement:
                    return el;
                case EventType.Attribute:
                    el.Attributes.Add(new ExiAttribute(p.Name, Value(p.Datatype!)));
                    break;
                case EventType.AttributeAny:
                case EventType.AttributeNs:
                {
                    string ns = p.Type == EventType.AttributeNs ? p.Name.Namespace : "urn:test:attributes";
                    var q = new QName(ns, "a" + (_wildcardCounter++ % 7));
                    if (prods.Any(x => x.Type == EventType.Attribute && x.Name == q) || el.Attributes.Any(a => a.Name == q) || _g.GlobalAttributes.ContainsKey(q)) break;
                    el.Attributes.Add(new ExiAttribute(q, ExiValue.FromString(RandomString(null))));
                    break;
                }
                case EventType.StartElement:
                    el.Children.Add(GenerateElement(p.Name, p.Element!, depth + 1));
                    break;
                case EventType.StartElementAny:
                case EventType.StartElementNs:
                {
                    string ns = p.Type == EventType.StartElementNs ? p.Name.Namespace : "urn:test:elements";
                    var q = new QName(ns, "w" + (_wildcardCounter++ % 5));
                    if (prods.Any(x => x.Type == EventType.StartElement && x.Name == q) || _g.GlobalElementIndex.ContainsKey(q))
                        q = new QName("urn:test:other", q.LocalName);
                    el.Children.Add(BuiltInElement(q, depth + 1));
                    break;
                }
                case EventType.CharactersTyped:
                    el.Value = Value(p.Datatype!);
                    break;
                case EventType.CharactersUntyped:
                    el.Children.Add(new ExiText(RandomString(null)));
                    break;
            }
            s = p.Next;
        }
    }

    private KeyValuePair<QName, TypeGrammar> PickBuiltInType()
    {
        var builtIns = _g.NamedTypes.Where(kv => kv.Key.Namespace == XsdNs && kv.Value.SimpleContent != null).OrderBy(kv => kv.Key).ToArray();
        return builtIns[_rnd.Next(builtIns.Length)];
    }

    /// <summary>An undeclared element for a wildcard: built-in grammar content (attributes, text, children).</summary>
    private ExiElement BuiltInElement(QName q, int depth)
    {
        var el = new ExiElement(q);
        int attrs = _rnd.Next(3);
        for (int i = 0; i < attrs; i++) el.SetAttribute(new QName(i == 0 ? "" : "urn:test:attributes", "b" + i), ExiValue.FromString(RandomString(null)));
        int children = depth > 6 ? 0 : _rnd.Next(3);
        for (int i = 0; i < children; i++)
        {
            if (_rnd.Next(2) == 0) el.Children.Add(new ExiText(RandomString(null)));
            else el.Children.Add(BuiltInElement(new QName(q.Namespace, "c" + _rnd.Next(3)), depth + 1));
        }
        return el;
    }

    private ExiValue Value(Datatype dt)
    {
        switch (dt.Kind)
        {
            case DatatypeKind.String:
                return ExiValue.FromString(RandomString(dt.MaxLength));
            case DatatypeKind.Base64Binary:
            case DatatypeKind.HexBinary:
            {
                int max = dt.MaxLength ?? 100;
                int len = _rnd.Next(4) == 0 ? max : _rnd.Next(Math.Min(max, 40) + 1);
                var b = new byte[len];
                _rnd.NextBytes(b);
                return ExiValue.FromBytes(b, dt.Kind == DatatypeKind.HexBinary);
            }
            case DatatypeKind.Boolean:
                return ExiValue.FromBoolean(_rnd.Next(2) == 0);
            case DatatypeKind.NBitInteger:
            {
                long hi = dt.UpperBound is { } u ? (long)u : dt.Min + (1L << dt.Bits) - 1;
                return ExiValue.FromInteger(dt.Min + (long)(_rnd.NextDouble() * (hi - dt.Min + 1)));
            }
            case DatatypeKind.UnsignedInteger:
            case DatatypeKind.Integer:
                return ExiValue.FromInteger(RandomInteger(dt.LowerBound, dt.UpperBound));
            case DatatypeKind.Enumeration:
                return ExiValue.FromString(dt.EnumValues[_rnd.Next(dt.EnumValues.Length)]);
            case DatatypeKind.Decimal:
            {
                var ip = RandomInteger(0, null);
                string frac = _rnd.Next(3) == 0 ? "" : _rnd.Next(1, 1_000_000).ToString(CultureInfo.InvariantCulture).TrimEnd('0');
                return ExiValue.FromDecimal(Values.FormatDecimal(_rnd.Next(2) == 0, ip, frac));
            }
            case DatatypeKind.Float:
            {
                int kind = _rnd.Next(12);
                if (kind == 0) return ExiValue.FromFloat(1, Values.SpecialExponent);
                if (kind == 1) return ExiValue.FromFloat(-1, Values.SpecialExponent);
                if (kind == 2) return ExiValue.FromFloat(0, Values.SpecialExponent);
                return ExiValue.FromFloat(_rnd.NextInt64(long.MinValue, long.MaxValue) >> _rnd.Next(64), _rnd.Next(-16383, 16384));
            }
            case DatatypeKind.DateTime:
                return ExiValue.FromDateTime(RandomDateTime(dt.DateTimeType));
            case DatatypeKind.List:
            {
                var items = new ExiValue[_rnd.Next(5)];
                for (int i = 0; i < items.Length; i++)
                {
                    // List items are whitespace-separated in XML, so string items must not contain whitespace.
                    items[i] = dt.Item!.Kind == DatatypeKind.String ? ExiValue.FromString("item" + _rnd.Next(1000)) : Value(dt.Item!);
                }
                return ExiValue.FromList(items);
            }
            default:
                throw new InvalidOperationException(dt.Kind.ToString());
        }
    }

    private BigInteger RandomInteger(BigInteger? lo, BigInteger? hi)
    {
        BigInteger low = lo ?? (_rnd.Next(3) == 0 ? -(BigInteger.One << _rnd.Next(1, 130)) : -1000);
        BigInteger high = hi ?? (_rnd.Next(3) == 0 ? BigInteger.One << _rnd.Next(1, 130) : 100000);
        if (high < low) high = low;
        int pick = _rnd.Next(6);
        if (pick == 0) return low;
        if (pick == 1) return high;
        BigInteger range = high - low + 1;
        byte[] bytes = range.ToByteArray();
        _rnd.NextBytes(bytes);
        bytes[^1] &= 0x7F;
        var r = new BigInteger(bytes) % range;
        return low + r;
    }

    private string RandomDateTime(DateTimeType t)
    {
        int year = _rnd.Next(1, 3000);
        string y = (_rnd.Next(10) == 0 ? "-" : "") + year.ToString("0000", CultureInfo.InvariantCulture);
        string mo = _rnd.Next(1, 13).ToString("00", CultureInfo.InvariantCulture);
        string d = _rnd.Next(1, 29).ToString("00", CultureInfo.InvariantCulture);
        string time = $"{_rnd.Next(24):00}:{_rnd.Next(60):00}:{_rnd.Next(60):00}" + (_rnd.Next(2) == 0 ? "" : "." + _rnd.Next(1, 999).ToString(CultureInfo.InvariantCulture).TrimEnd('0'));
        string tz = _rnd.Next(3) switch
        {
            0 => "",
            1 => "Z",
            _ => (_rnd.Next(2) == 0 ? "+" : "-") + $"{_rnd.Next(0, 14):00}:{_rnd.Next(60):00}",
        };
        if (tz is "+00:00" or "-00:00") tz = "Z";
        return t switch
        {
            DateTimeType.GYear => y + tz,
            DateTimeType.GYearMonth => $"{y}-{mo}{tz}",
            DateTimeType.Date => $"{y}-{mo}-{d}{tz}",
            DateTimeType.DateTime => $"{y}-{mo}-{d}T{time}{tz}",
            DateTimeType.GMonth => $"--{mo}{tz}",
            DateTimeType.GMonthDay => $"--{mo}-{d}{tz}",
            DateTimeType.GDay => $"---{d}{tz}",
            _ => time + tz,
        };
    }

    private static readonly string[] Alphabet =
    {
        "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " =,.-_/:#", "äöüßéÅ", "€漢字", "\U0001F600",
    };

    private string RandomString(int? maxLength)
    {
        int max = maxLength ?? 300;
        int len = _rnd.Next(10) switch
        {
            < 6 => _rnd.Next(Math.Min(max, 12) + 1),
            < 9 => _rnd.Next(Math.Min(max, 90) + 1),
            _ => _rnd.Next(max + 1),
        };
        var sb = new StringBuilder(len);
        int cps = 0;
        while (cps < len)
        {
            var set = Alphabet[_rnd.Next(10) < 8 ? _rnd.Next(3) : _rnd.Next(Alphabet.Length)];
            if (char.IsHighSurrogate(set[0])) sb.Append(set);
            else sb.Append(set[_rnd.Next(set.Length)]);
            cps++;
        }
        return sb.ToString();
    }
}
