using System.Globalization;
using PlugAndCharge.Exi.Grammar;

namespace PlugAndCharge.Exi;

/// <summary>Parses the XSD lexical forms of the date/time types into the components EXI carries (§7.1.8).</summary>
internal readonly record struct DateTimeLexical(long Year, int Month, int Day, int Hour, int Minute, int Second, string Fraction, int? TimeZoneMinutes)
{
    public static DateTimeLexical Parse(DateTimeType type, string s)
    {
        int i = 0;
        long year = 0;
        int month = 0, day = 0, hour = 0, minute = 0, second = 0;
        string fraction = "";
        switch (type)
        {
            case DateTimeType.GYear:
                year = ParseYear(s, ref i);
                break;
            case DateTimeType.GYearMonth:
                year = ParseYear(s, ref i); Expect(s, ref i, '-'); month = Digits(s, ref i, 2);
                break;
            case DateTimeType.Date:
            case DateTimeType.DateTime:
                year = ParseYear(s, ref i); Expect(s, ref i, '-'); month = Digits(s, ref i, 2); Expect(s, ref i, '-'); day = Digits(s, ref i, 2);
                if (type == DateTimeType.DateTime) { Expect(s, ref i, 'T'); ParseTime(s, ref i, out hour, out minute, out second, out fraction); }
                break;
            case DateTimeType.Time:
                ParseTime(s, ref i, out hour, out minute, out second, out fraction);
                break;
            case DateTimeType.GMonth:
                Expect(s, ref i, '-'); Expect(s, ref i, '-'); month = Digits(s, ref i, 2);
                break;
            case DateTimeType.GMonthDay:
                Expect(s, ref i, '-'); Expect(s, ref i, '-'); month = Digits(s, ref i, 2); Expect(s, ref i, '-'); day = Digits(s, ref i, 2);
                break;
            case DateTimeType.GDay:
                Expect(s, ref i, '-'); Expect(s, ref i, '-'); Expect(s, ref i, '-'); day = Digits(s, ref i, 2);
                break;
        }
        int? tz = null;
        if (i < s.Length)
        {
            if (s[i] == 'Z') { tz = 0; i++; }
            else if (s[i] is '+' or '-')
            {
                int sign = s[i] == '-' ? -1 : 1;
                i++;
                int th = Digits(s, ref i, 2);
                Expect(s, ref i, ':');
                int tm = Digits(s, ref i, 2);
                if (th > 14 || tm > 59) throw new FormatException("time zone out of range");
                tz = sign * (th * 60 + tm);
            }
        }
        if (i != s.Length) throw new FormatException($"unexpected '{s[i..]}'");
        if (month > 12 || day > 31 || hour > 24 || minute > 59 || second > 60) throw new FormatException("date/time component out of range");
        return new DateTimeLexical(year, month, day, hour, minute, second, fraction, tz);
    }

    private static long ParseYear(string s, ref int i)
    {
        int start = i;
        if (i < s.Length && s[i] == '-') i++;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i - start < 4) throw new FormatException("year needs at least four digits");
        return long.Parse(s.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private static void ParseTime(string s, ref int i, out int h, out int m, out int sec, out string fraction)
    {
        h = Digits(s, ref i, 2); Expect(s, ref i, ':'); m = Digits(s, ref i, 2); Expect(s, ref i, ':'); sec = Digits(s, ref i, 2);
        fraction = "";
        if (i < s.Length && s[i] == '.')
        {
            i++;
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start) throw new FormatException("empty fraction");
            fraction = s[start..i].TrimEnd('0');
        }
    }

    private static int Digits(string s, ref int i, int n)
    {
        if (i + n > s.Length) throw new FormatException("truncated date/time");
        int v = 0;
        for (int k = 0; k < n; k++)
        {
            char c = s[i + k];
            if (!char.IsAsciiDigit(c)) throw new FormatException($"digit expected at '{s[(i + k)..]}'");
            v = v * 10 + (c - '0');
        }
        i += n;
        return v;
    }

    private static void Expect(string s, ref int i, char c)
    {
        if (i >= s.Length || s[i] != c) throw new FormatException($"'{c}' expected");
        i++;
    }
}
