using System.Numerics;

namespace PlugAndCharge.Exi.Grammar;

/// <summary>How a typed value is represented on the wire (EXI 1.0 §7.1, Table 7-1).</summary>
internal enum DatatypeKind : byte
{
    String,
    Base64Binary,
    HexBinary,
    Boolean,
    Decimal,
    Float,
    /// <summary>Bounded integer whose range fits in 12 bits: n-bit unsigned offset from the minimum (§7.1.9).</summary>
    NBitInteger,
    /// <summary>Integer whose lower bound is >= 0: Unsigned Integer (§7.1.6).</summary>
    UnsignedInteger,
    /// <summary>Any other integer: sign bit + Unsigned Integer magnitude (§7.1.5).</summary>
    Integer,
    DateTime,
    Enumeration,
    List,
}

/// <summary>Which components a date-time value carries (EXI 1.0 §7.1.8, Table 7-3).</summary>
internal enum DateTimeType : byte
{
    GYear, GYearMonth, Date, DateTime, GMonth, GMonthDay, GDay, Time,
}

/// <summary>The EXI representation of one simple type, derived from its XSD facets.</summary>
internal sealed class Datatype
{
    public DatatypeKind Kind;
    public string TypeName = "";

    // NBitInteger / bounds
    public long Min;
    public int Bits;
    public BigInteger? LowerBound;
    public BigInteger? UpperBound;
    /// <summary>True when values can exceed 64 bits (xs:integer and unbounded derivations).</summary>
    public bool Unbounded64;

    public DateTimeType DateTimeType;

    // Enumeration: values in schema order; the index is what travels (§7.2).
    public string[] EnumValues = Array.Empty<string>();
    public Dictionary<string, int>? EnumIndex;
    public Datatype? EnumBase;

    // List: item type (§7.1.11)
    public Datatype? Item;

    /// <summary>Length facets of the value space, enforced when encoding so we never emit what a peer's codec cannot take.</summary>
    public int? MaxLength;

    /// <summary>True for the XSD string family whose whitespace facet is "preserve".</summary>
    public bool PreserveWhitespace;

    public static readonly Datatype UntypedString = new() { Kind = DatatypeKind.String, TypeName = "untyped", PreserveWhitespace = true };

    public override string ToString() => $"{TypeName}:{Kind}";
}
