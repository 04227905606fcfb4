namespace PlugAndCharge.Core.Identifiers;

/// <summary>
/// Provisioning Certificate ID (ISO 15118-2): WMI (3 characters, the OEM) + 14 alphanumerics + optional check character,
/// 17-18 characters: the CN of an OEM provisioning certificate.
/// </summary>
public sealed record Pcid
{
    public string Value { get; }
    private Pcid(string value) => Value = value;

    /// <summary>World Manufacturer Identifier: the first three characters, which scope an OEM's vehicles.</summary>
    public string Wmi => Value[..3];

    public override string ToString() => Value;

    public static Pcid Parse(string text) => TryParse(text, out var p, out var e) ? p : throw new FormatException(e);

    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Pcid? pcid, out string error)
    {
        pcid = null;
        var s = text?.Trim() ?? "";
        if (s.Length is < 17 or > 18) { error = $"PCID has {s.Length} characters; expected 17 or 18."; return false; }
        foreach (var c in s)
            if (!char.IsAsciiLetterOrDigit(c)) { error = $"PCID contains '{c}', which is not alphanumeric."; return false; }
        // Upper-case is the canonical form (the -20 additional data uses the PCID in upper case).
        pcid = new Pcid(s.ToUpperInvariant());
        error = "";
        return true;
    }
}
