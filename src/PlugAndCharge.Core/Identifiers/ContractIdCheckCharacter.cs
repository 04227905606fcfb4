namespace PlugAndCharge.Core.Identifiers;

/// <summary>
/// Check characters of contract identifiers: ISO 15118-1 Annex H / eMI3 (14 characters in, one out) and
/// DIN SPEC 91286 (11 characters in, one digit or 'X' out).
/// </summary>
public static class ContractIdCheckCharacter
{
    // ISO 15118-1 Annex H: each alphanumeric maps to a code 0..43 = q1 + 2*q2 + 4*r1 + 16*r2,
    // with (q1, q2) over GF(2) and (r1, r2) over GF(3).
    private static readonly int[] CodeOf = BuildCodeTable();
    private static readonly char[] CharOfCode = BuildInverse();

    private static int[] BuildCodeTable()
    {
        var table = new int[128];
        Array.Fill(table, -1);
        ReadOnlySpan<int> digits = [0, 16, 32, 4, 20, 36, 8, 24, 40, 2];
        ReadOnlySpan<int> letters = [18, 34, 6, 22, 38, 10, 26, 42, 1, 17, 33, 5, 21, 37, 9, 25, 41, 3, 19, 35, 7, 23, 39, 11, 27, 43];
        for (var i = 0; i < 10; i++) table['0' + i] = digits[i];
        for (var i = 0; i < 26; i++) table['A' + i] = letters[i];
        return table;
    }

    private static char[] BuildInverse()
    {
        var inverse = new char[44];
        for (var c = 0; c < 128; c++)
            if (CodeOf[c] >= 0) inverse[CodeOf[c]] = (char)c;
        return inverse;
    }

    /// <summary>The eMI3 / ISO 15118-1 check character of a 14-character contract ID (no separators, any case).</summary>
    public static char ComputeIso(ReadOnlySpan<char> id14)
    {
        if (id14.Length != 14) throw new ArgumentException("An ISO 15118-1 contract ID without check character has 14 characters.", nameof(id14));
        // Row vectors times matrix powers; P1 = [[0,1],[1,1]] (GF 2), P2 = [[0,1],[1,2]] (GF 3).
        int p1a = 0, p1b = 1, p1c = 1, p1d = 1; // P1^1
        int p2a = 0, p2b = 1, p2c = 1, p2d = 2; // P2^1
        int t1x = 0, t1y = 0, t2x = 0, t2y = 0;
        for (var i = 0; i < 14; i++)
        {
            var ch = char.ToUpperInvariant(id14[i]);
            var code = ch < 128 ? CodeOf[ch] : -1;
            if (code < 0) throw new ArgumentException($"'{id14[i]}' is not alphanumeric.", nameof(id14));
            int q1 = code & 1, q2 = (code >> 1) & 1, r1 = (code >> 2) & 3, r2 = (code >> 4) & 3;
            t1x += q1 * p1a + q2 * p1c; t1y += q1 * p1b + q2 * p1d;
            t2x += r1 * p2a + r2 * p2c; t2y += r1 * p2b + r2 * p2d;
            (p1a, p1b, p1c, p1d) = ((p1a * 0 + p1b * 1) % 2, (p1a * 1 + p1b * 1) % 2, (p1c * 0 + p1d * 1) % 2, (p1c * 1 + p1d * 1) % 2);
            (p2a, p2b, p2c, p2d) = ((p2a * 0 + p2b * 1) % 3, (p2a * 1 + p2b * 2) % 3, (p2c * 0 + p2d * 1) % 3, (p2c * 1 + p2d * 2) % 3);
        }
        // t2 := t2 . [[0,2],[2,1]]
        (t2x, t2y) = (t2y * 2, t2x * 2 + t2y);
        var result = (t1x % 2) + 2 * (t1y % 2) + 4 * (t2x % 3) + 16 * (t2y % 3);
        return CharOfCode[result];
    }

    /// <summary>The DIN SPEC 91286 check digit of an 11-character contract ID (no separators).</summary>
    public static char ComputeDin(ReadOnlySpan<char> id11)
    {
        if (id11.Length != 11) throw new ArgumentException("A DIN SPEC 91286 contract ID without check digit has 11 characters.", nameof(id11));
        long sum = 0;
        var k = 0;
        foreach (var raw in id11)
        {
            var ch = char.ToUpperInvariant(raw);
            if (ch is >= '0' and <= '9')
            {
                sum += (ch - '0') * (1L << k);
                k += 1;
            }
            else if (ch is >= 'A' and <= 'Z')
            {
                var v = ch - 'A' + 10;
                sum += (v / 10) * (1L << k) + (v % 10) * (1L << (k + 1));
                k += 2;
            }
            else throw new ArgumentException($"'{raw}' is not alphanumeric.", nameof(id11));
        }
        var check = (int)(sum % 11);
        return check == 10 ? 'X' : (char)('0' + check);
    }
}
