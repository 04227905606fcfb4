using System.Globalization;
using System.Numerics;

namespace PlugAndCharge.Exi;

public enum ExiValueKind : byte
{
    None,
    String,
    Binary,
    Boolean,
    Integer,
    BigInteger,
    /// <summary>xs:decimal, kept as its canonical lexical form (EXI decimals are unbounded).</summary>
    Decimal,
    /// <summary>xs:float/xs:double as EXI carries it: mantissa × 10^exponent (§7.1.4).</summary>
    Float,
    /// <summary>Date/time types, kept as their lexical form.</summary>
    DateTime,
    List,
}

/// <summary>
/// A typed value: what a CH or AT event carries. Decoding yields the value in its schema type (bytes for
/// base64Binary/hexBinary, long or BigInteger for integers, ...); values built from XML text arrive as
/// <see cref="ExiValueKind.String"/> and are converted to the schema type when encoded.
/// </summary>
public readonly struct ExiValue : IEquatable<ExiValue>
{
    private readonly object? _obj;
    private readonly long _long;

    private ExiValue(ExiValueKind kind, object? obj, long l, bool hex = false)
    {
        Kind = kind;
        _obj = obj;
        _long = l;
        IsHex = hex;
    }

    public ExiValueKind Kind { get; }

    /// <summary>For binary values: true when the schema type is hexBinary (affects the lexical form only).</summary>
    public bool IsHex { get; }

    public bool IsNone => Kind == ExiValueKind.None;

    public static ExiValue None => default;
    public static ExiValue FromString(string s) => new(ExiValueKind.String, s ?? throw new ArgumentNullException(nameof(s)), 0);
    public static ExiValue FromBytes(byte[] bytes, bool hex = false) => new(ExiValueKind.Binary, bytes ?? throw new ArgumentNullException(nameof(bytes)), 0, hex);
    public static ExiValue FromBoolean(bool b) => new(ExiValueKind.Boolean, null, b ? 1 : 0);
    public static ExiValue FromInteger(long v) => new(ExiValueKind.Integer, null, v);

    public static ExiValue FromInteger(BigInteger v) =>
        v >= long.MinValue && v <= long.MaxValue ? new(ExiValueKind.Integer, null, (long)v) : new(ExiValueKind.BigInteger, v, 0);

    /// <summary>A decimal in canonical lexical form (e.g. "-1.25", "3").</summary>
    public static ExiValue FromDecimal(string lexical) => new(ExiValueKind.Decimal, lexical, 0);
    public static ExiValue FromDecimal(decimal d) => new(ExiValueKind.Decimal, Values.CanonicalDecimal(d.ToString(CultureInfo.InvariantCulture)), 0);

    /// <summary>mantissa × 10^exponent; exponent -16384 encodes INF (mantissa 1), -INF (-1) and NaN (other), as in EXI §7.1.4.</summary>
    public static ExiValue FromFloat(long mantissa, int exponent) => new(ExiValueKind.Float, exponent, mantissa);
    public static ExiValue FromDouble(double d) { Values.DoubleToFloat(d, out long m, out int e); return FromFloat(m, e); }
    public static ExiValue FromDateTime(string lexical) => new(ExiValueKind.DateTime, lexical, 0);
    public static ExiValue FromList(ExiValue[] items) => new(ExiValueKind.List, items ?? throw new ArgumentNullException(nameof(items)), 0);

    public string AsString() => Kind == ExiValueKind.String ? (string)_obj! : ToString();

    public byte[] AsBytes() => Kind switch
    {
        ExiValueKind.Binary => (byte[])_obj!,
        ExiValueKind.String => Values.ParseBinaryLenient((string)_obj!),
        _ => throw new InvalidOperationException($"value of kind {Kind} is not binary"),
    };

    public bool AsBoolean() => Kind switch
    {
        ExiValueKind.Boolean => _long != 0,
        ExiValueKind.String => Values.ParseBoolean((string)_obj!) ?? throw new FormatException("not a boolean"),
        _ => throw new InvalidOperationException($"value of kind {Kind} is not boolean"),
    };

    public long AsInt64() => Kind switch
    {
        ExiValueKind.Integer => _long,
        ExiValueKind.BigInteger => (long)(BigInteger)_obj!,
        ExiValueKind.String => long.Parse(((string)_obj!).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"value of kind {Kind} is not an integer"),
    };

    public BigInteger AsBigInteger() => Kind switch
    {
        ExiValueKind.Integer => _long,
        ExiValueKind.BigInteger => (BigInteger)_obj!,
        ExiValueKind.String => BigInteger.Parse(((string)_obj!).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"value of kind {Kind} is not an integer"),
    };

    public long FloatMantissa => Kind == ExiValueKind.Float ? _long : throw new InvalidOperationException("not a float");
    public int FloatExponent => Kind == ExiValueKind.Float ? (int)_obj! : throw new InvalidOperationException("not a float");

    public double AsDouble() => Kind switch
    {
        ExiValueKind.Float => Values.FloatToDouble(_long, (int)_obj!),
        _ => double.Parse(ToString(), NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    public IReadOnlyList<ExiValue> AsList() => Kind == ExiValueKind.List ? (ExiValue[])_obj! : throw new InvalidOperationException("not a list");

    internal object? RawObject => _obj;
    internal long RawLong => _long;

    /// <summary>The canonical lexical (XML) form.</summary>
    public override string ToString() => Kind switch
    {
        ExiValueKind.None => "",
        ExiValueKind.String or ExiValueKind.Decimal or ExiValueKind.DateTime => (string)_obj!,
        ExiValueKind.Binary => IsHex ? Convert.ToHexString((byte[])_obj!) : Convert.ToBase64String((byte[])_obj!),
        ExiValueKind.Boolean => _long != 0 ? "true" : "false",
        ExiValueKind.Integer => _long.ToString(CultureInfo.InvariantCulture),
        ExiValueKind.BigInteger => ((BigInteger)_obj!).ToString(CultureInfo.InvariantCulture),
        ExiValueKind.Float => Values.FloatToString(_long, (int)_obj!),
        ExiValueKind.List => string.Join(" ", ((ExiValue[])_obj!).Select(v => v.ToString())),
        _ => "",
    };

    public bool Equals(ExiValue other)
    {
        if (Kind != other.Kind) return false;
        return Kind switch
        {
            ExiValueKind.None => true,
            ExiValueKind.Binary => ((byte[])_obj!).AsSpan().SequenceEqual((byte[])other._obj!),
            ExiValueKind.Boolean or ExiValueKind.Integer => _long == other._long,
            ExiValueKind.Float => _long == other._long && (int)_obj! == (int)other._obj!,
            ExiValueKind.List => ((ExiValue[])_obj!).AsSpan().SequenceEqual((ExiValue[])other._obj!),
            _ => Equals(_obj, other._obj),
        };
    }

    public override bool Equals(object? obj) => obj is ExiValue v && Equals(v);
    public override int GetHashCode() => HashCode.Combine(Kind, ToString());
    public static bool operator ==(ExiValue a, ExiValue b) => a.Equals(b);
    public static bool operator !=(ExiValue a, ExiValue b) => !a.Equals(b);

    public static implicit operator ExiValue(string s) => FromString(s);
    public static implicit operator ExiValue(byte[] b) => FromBytes(b);
    public static implicit operator ExiValue(bool b) => FromBoolean(b);
    public static implicit operator ExiValue(long v) => FromInteger(v);
    public static implicit operator ExiValue(int v) => FromInteger(v);
}
