using System.Globalization;
using System.Numerics;

namespace PlugAndCharge.Exi;

/// <summary>Lexical forms and conversions shared by the codec and the model.</summary>
internal static class Values
{
    /// <summary>EXI 1.0 §7.1.4: the exponent value that marks INF/-INF/NaN.</summary>
    public const int SpecialExponent = -(1 << 14);

    public static bool? ParseBoolean(string s) => s.Trim() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => null,
    };

    /// <summary>Accepts base64 or, failing that, hex (for hand-written values of either binary type).</summary>
    public static byte[] ParseBinaryLenient(string s)
    {
        s = s.Trim();
        if (TryParseBase64(s, out var b)) return b;
        return Convert.FromHexString(s);
    }

    public static bool TryParseBase64(string s, out byte[] bytes)
    {
        bytes = Array.Empty<byte>();
        string compact = RemoveWhitespace(s);
        if (compact.Length % 4 != 0) return false;
        var buffer = new byte[compact.Length / 4 * 3];
        if (!Convert.TryFromBase64String(compact, buffer, out int written)) return false;
        bytes = written == buffer.Length ? buffer : buffer.AsSpan(0, written).ToArray();
        return true;
    }

    public static string RemoveWhitespace(string s)
    {
        bool any = false;
        foreach (char c in s)
            if (c is ' ' or '\t' or '\r' or '\n') { any = true; break; }
        if (!any) return s;
        return string.Concat(s.Where(c => c is not (' ' or '\t' or '\r' or '\n')));
    }

    /// <summary>XSD whitespace "collapse".</summary>
    public static string Collapse(string s)
    {
        s = s.Trim(' ', '\t', '\r', '\n');
        if (s.IndexOfAny(new[] { '\t', '\r', '\n' }) < 0 && !s.Contains("  ", StringComparison.Ordinal)) return s;
        var parts = s.Split(new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', parts);
    }

    public static string CanonicalDecimal(string lexical)
    {
        if (!TryParseDecimal(lexical, out bool neg, out BigInteger integral, out string frac)) throw new FormatException($"'{lexical}' is not a decimal");
        return FormatDecimal(neg, integral, frac);
    }

    public static string FormatDecimal(bool negative, BigInteger integral, string fracDigits)
    {
        string s = integral.ToString(CultureInfo.InvariantCulture);
        if (fracDigits.Length > 0) s += "." + fracDigits;
        if (negative && (integral != 0 || fracDigits.Length > 0)) s = "-" + s;
        return s;
    }

    /// <summary>Splits a decimal into sign, integral part and fraction digits (trailing zeros removed).</summary>
    public static bool TryParseDecimal(string lexical, out bool negative, out BigInteger integral, out string fracDigits)
    {
        negative = false;
        integral = BigInteger.Zero;
        fracDigits = "";
        string s = lexical.Trim();
        if (s.Length == 0) return false;
        int i = 0;
        if (s[0] is '+' or '-') { negative = s[0] == '-'; i = 1; }
        int dot = s.IndexOf('.', i);
        string ip = dot < 0 ? s[i..] : s[i..dot];
        string fp = dot < 0 ? "" : s[(dot + 1)..];
        if (ip.Length == 0 && fp.Length == 0) return false;
        foreach (char c in ip) if (c is < '0' or > '9') return false;
        foreach (char c in fp) if (c is < '0' or > '9') return false;
        integral = ip.Length == 0 ? BigInteger.Zero : BigInteger.Parse(ip, NumberStyles.None, CultureInfo.InvariantCulture);
        fracDigits = fp.TrimEnd('0');
        if (integral.IsZero && fracDigits.Length == 0) negative = false;
        return true;
    }

    public static string FloatToString(long mantissa, int exponent)
    {
        if (exponent == SpecialExponent)
            return mantissa == 1 ? "INF" : mantissa == -1 ? "-INF" : "NaN";
        return mantissa.ToString(CultureInfo.InvariantCulture) + "E" + exponent.ToString(CultureInfo.InvariantCulture);
    }

    public static double FloatToDouble(long mantissa, int exponent)
    {
        if (exponent == SpecialExponent)
            return mantissa == 1 ? double.PositiveInfinity : mantissa == -1 ? double.NegativeInfinity : double.NaN;
        return double.Parse(FloatToString(mantissa, exponent), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static void DoubleToFloat(double d, out long mantissa, out int exponent)
    {
        if (double.IsNaN(d)) { mantissa = 0; exponent = SpecialExponent; return; }
        if (double.IsPositiveInfinity(d)) { mantissa = 1; exponent = SpecialExponent; return; }
        if (double.IsNegativeInfinity(d)) { mantissa = -1; exponent = SpecialExponent; return; }
        if (!TryParseFloatLexical(d.ToString("R", CultureInfo.InvariantCulture), out mantissa, out exponent))
            throw new FormatException("float out of range");
    }

    /// <summary>Parses an xs:float/xs:double lexical into EXI mantissa/exponent, trailing zeros folded into the exponent.</summary>
    public static bool TryParseFloatLexical(string lexical, out long mantissa, out int exponent)
    {
        mantissa = 0;
        exponent = 0;
        string s = lexical.Trim();
        switch (s)
        {
            case "INF": case "+INF": mantissa = 1; exponent = SpecialExponent; return true;
            case "-INF": mantissa = -1; exponent = SpecialExponent; return true;
            case "NaN": mantissa = 0; exponent = SpecialExponent; return true;
        }
        int e = s.IndexOfAny(new[] { 'e', 'E' });
        string num = e < 0 ? s : s[..e];
        long exp = 0;
        if (e >= 0 && !long.TryParse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exp)) return false;
        if (!TryParseDecimal(num, out bool neg, out BigInteger ip, out string frac)) return false;
        BigInteger m = BigInteger.Parse(ip.ToString(CultureInfo.InvariantCulture) + frac, CultureInfo.InvariantCulture);
        exp -= frac.Length;
        if (m.IsZero) { mantissa = 0; exponent = 0; return true; }
        while (m % 10 == 0) { m /= 10; exp++; }
        // Keep the mantissa within 64 bits (§7.1.4), dropping precision beyond that.
        while (BigInteger.Abs(m) > long.MaxValue) { m /= 10; exp++; }
        if (exp <= SpecialExponent || exp >= -SpecialExponent) return false;
        mantissa = (long)(neg ? -m : m);
        exponent = (int)exp;
        return true;
    }
}
