namespace PlugAndCharge.Core.Identifiers;

/// <summary>
/// EVSE ID as an ISO 15118-2 SECC certificate CN: country (2 letters) + '*'? + operator ID (3 alphanumerics) + '*'? +
/// 'E' + up to 31 alphanumerics or '*' (ISO 15118-2 Annex H / eMI3). ISO 15118-20 SECC certificates carry a SECCID
/// instead: 1..64 characters of the set the -20 schema allows.
/// </summary>
public static class EvseId
{
    public static bool IsValid(string? text) => TryGetOperatorId(text, out _);

    /// <summary>Country + operator ID (e.g. <c>DEABC</c>), the part that names the CPO.</summary>
    public static bool TryGetOperatorId(string? text, out string operatorId)
    {
        operatorId = "";
        if (string.IsNullOrEmpty(text) || text.Length > 40) return false;
        var s = text.ToUpperInvariant();
        var i = 0;
        if (s.Length < 2 || !char.IsAsciiLetter(s[0]) || !char.IsAsciiLetter(s[1])) return false;
        i = 2;
        if (i < s.Length && s[i] == '*') i++;
        if (i + 3 > s.Length) return false;
        for (var k = 0; k < 3; k++) if (!char.IsAsciiLetterOrDigit(s[i + k])) return false;
        operatorId = s[..2] + s.Substring(i, 3);
        i += 3;
        if (i < s.Length && s[i] == '*') i++;
        if (i >= s.Length || s[i] != 'E') return false;
        i++;
        if (i >= s.Length) return false;
        for (; i < s.Length; i++) if (!char.IsAsciiLetterOrDigit(s[i]) && s[i] != '*') return false;
        return true;
    }

    /// <summary>SECCID of ISO 15118-20: a non-empty string of at most 64 printable ASCII characters without spaces.</summary>
    public static bool IsValidSeccId(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 64) return false;
        foreach (var c in text) if (c is <= ' ' or > '~') return false;
        return true;
    }
}
