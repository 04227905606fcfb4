namespace PlugAndCharge.Core.Identifiers;

/// <summary>How strictly an EMAID is read. We mint strictly; what arrives from the field often carries a wrong check character.</summary>
public enum IdentifierStrictness
{
    /// <summary>The check character must be present and correct.</summary>
    Strict,
    /// <summary>The check character may be absent or wrong (recorded in <see cref="Emaid.CheckCharacterValid"/>).</summary>
    Lenient,
}

public enum EmaidFormat { Iso15118, DinSpec91286 }

/// <summary>
/// An e-Mobility Account Identifier (ISO 15118-1 / eMI3): country (2 letters) + provider ID (3 alphanumerics) +
/// instance (9 alphanumerics) + optional check character; or the DIN SPEC 91286 form with a 6-character instance.
/// Case-insensitive, optional '-' (or '*' for DIN) separators; the normalized form is upper-case without separators.
/// </summary>
public sealed record Emaid
{
    public string Country { get; }
    public string ProviderId { get; }
    public string Instance { get; }
    public char? CheckCharacter { get; }
    public bool CheckCharacterValid { get; }
    public EmaidFormat Format { get; }

    private Emaid(string country, string provider, string instance, char? check, bool checkValid, EmaidFormat format)
    {
        Country = country; ProviderId = provider; Instance = instance; CheckCharacter = check; CheckCharacterValid = checkValid; Format = format;
    }

    /// <summary>Country + provider ID: the 5 characters that name the eMSP (the hub routes by them).</summary>
    public string ProviderPrefix => Country + ProviderId;

    /// <summary>Upper-case, no separators, check character included when present: the form on the ISO 15118-2 wire (14-15 characters).</summary>
    public string Normalized => Country + ProviderId + Instance + (CheckCharacter is { } c ? c.ToString() : "");

    public override string ToString() => Normalized;

    /// <summary>The human-readable form with separators, e.g. <c>DE-ABC-C12345678-X</c>.</summary>
    public string ToDisplayString()
    {
        var sep = Format == EmaidFormat.DinSpec91286 ? '*' : '-';
        return $"{Country}{sep}{ProviderId}{sep}{Instance}" + (CheckCharacter is { } c ? $"{sep}{c}" : "");
    }

    /// <summary>Mints a new EMAID with a correct check character (always strict).</summary>
    public static Emaid Create(string country, string providerId, string instance)
    {
        var body = (country + providerId + instance).ToUpperInvariant();
        if (instance.Length != 9) throw new FormatException("An ISO 15118-1 EMAID instance has 9 alphanumerics.");
        var e = Parse(body + ContractIdCheckCharacter.ComputeIso(body), IdentifierStrictness.Strict);
        return e;
    }

    public static Emaid Parse(string text, IdentifierStrictness strictness = IdentifierStrictness.Strict)
        => TryParse(text, strictness, out var emaid, out var error) ? emaid : throw new FormatException(error);

    public static bool TryParse(string? text, IdentifierStrictness strictness, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Emaid? emaid, out string error)
    {
        emaid = null;
        if (string.IsNullOrWhiteSpace(text)) { error = "EMAID is empty."; return false; }
        Span<char> buf = stackalloc char[32];
        var n = 0;
        var din = false;
        foreach (var raw in text.Trim())
        {
            if (raw is '-') continue;
            if (raw is '*') { din = true; continue; }
            if (!char.IsAsciiLetterOrDigit(raw)) { error = $"EMAID contains '{raw}', which is neither alphanumeric nor a separator."; return false; }
            if (n == buf.Length) { error = "EMAID is too long."; return false; }
            buf[n++] = char.ToUpperInvariant(raw);
        }
        var s = buf[..n];
        if (s.Length < 2 || !char.IsAsciiLetter(s[0]) || !char.IsAsciiLetter(s[1])) { error = "EMAID must start with a 2-letter country code."; return false; }

        EmaidFormat format;
        int instanceLength;
        if (!din && s.Length is 14 or 15) { format = EmaidFormat.Iso15118; instanceLength = 9; }
        else if (s.Length is 11 or 12) { format = EmaidFormat.DinSpec91286; instanceLength = 6; }
        else { error = $"EMAID has {s.Length} characters without separators; expected 14-15 (ISO 15118-1) or 11-12 (DIN SPEC 91286)."; return false; }

        var bodyLength = 5 + instanceLength;
        char? check = s.Length > bodyLength ? s[bodyLength] : null;
        var valid = false;
        if (check is { } c)
        {
            var expected = format == EmaidFormat.Iso15118 ? ContractIdCheckCharacter.ComputeIso(s[..bodyLength]) : ContractIdCheckCharacter.ComputeDin(s[..bodyLength]);
            valid = c == expected;
            if (!valid && strictness == IdentifierStrictness.Strict) { error = $"EMAID check character '{c}' is wrong (expected '{expected}')."; return false; }
        }
        else if (strictness == IdentifierStrictness.Strict) { error = "EMAID has no check character."; return false; }

        emaid = new Emaid(new string(s[..2]), new string(s[2..5]), new string(s[5..bodyLength]), check, valid, format);
        error = "";
        return true;
    }

    /// <summary>True when two EMAID strings name the same contract (normalized comparison; check characters compared only when both carry one).</summary>
    public static bool SameContract(string a, string b)
    {
        if (!TryParse(a, IdentifierStrictness.Lenient, out var x, out _) || !TryParse(b, IdentifierStrictness.Lenient, out var y, out _)) return false;
        if (x.ProviderPrefix != y.ProviderPrefix || x.Instance != y.Instance) return false;
        return x.CheckCharacter is null || y.CheckCharacter is null || x.CheckCharacter == y.CheckCharacter;
    }
}
