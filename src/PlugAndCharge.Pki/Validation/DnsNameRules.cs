namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// DNS name syntax and matching: the "preferred name syntax" RFC 5280 §4.2.1.6 requires (RFC 1034 §3.5 as relaxed by
/// RFC 1123 §2.1), RFC 6125 §6.4 matching with a whole-label left-most wildcard, and RFC 5280 §4.2.1.10 subtrees.
/// All comparisons are ASCII case-insensitive; IA5String names are ASCII by definition.
/// </summary>
internal static class DnsNameRules
{
    /// <summary>A host name: LDH labels of 1..63 characters, no leading or trailing hyphen, at most 253 characters.</summary>
    public static bool IsValidHostName(string name) => IsValid(name, allowWildcard: false);

    /// <summary>A presented identifier: a host name, or "*." followed by a host name of at least two labels.</summary>
    public static bool IsValidPresented(string name) => IsValid(name, allowWildcard: true);

    /// <summary>RFC 6125 §6.4.3: "*" may only be the whole left-most label and matches exactly one label.</summary>
    public static bool Matches(string presented, string reference)
    {
        if (presented.StartsWith("*.", StringComparison.Ordinal))
        {
            var dot = reference.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0)
            {
                return false;
            }

            return string.Equals(presented[2..], reference[(dot + 1)..], StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(presented, reference, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>RFC 5280 §4.2.1.10: <paramref name="name"/> is the constraint or has labels added to its left.</summary>
    public static bool IsWithin(string name, string constraint)
    {
        if (name.Length == constraint.Length)
        {
            return string.Equals(name, constraint, StringComparison.OrdinalIgnoreCase);
        }

        return name.Length > constraint.Length &&
               name[name.Length - constraint.Length - 1] == '.' &&
               name.EndsWith(constraint, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Every name "*.base" can stand for lies inside the subtree.</summary>
    public static bool WildcardIsWithin(string wildcard, string constraint) => IsWithin(wildcard[2..], constraint);

    /// <summary>
    /// Some name "*.base" can stand for lies inside the subtree: the subtree covers base, or is one label below it.
    /// A validator has to assume the peer may use any such name (CVE-2025-61727).
    /// </summary>
    public static bool WildcardMayReach(string wildcard, string constraint)
    {
        var baseName = wildcard[2..];
        if (IsWithin(baseName, constraint))
        {
            return true;
        }

        if (!IsWithin(constraint, baseName) || constraint.Length == baseName.Length)
        {
            return false;
        }

        var extra = constraint.AsSpan(0, constraint.Length - baseName.Length - 1);
        return !extra.Contains('.');
    }

    private static bool IsValid(string name, bool allowWildcard)
    {
        if (name.Length == 0 || name.Length > 253)
        {
            return false;
        }

        var span = name.AsSpan();
        var labels = 0;
        var start = 0;
        if (allowWildcard && span.StartsWith("*."))
        {
            start = 2;
        }

        for (var i = start; i <= span.Length; i++)
        {
            if (i < span.Length && span[i] != '.')
            {
                continue;
            }

            if (!IsValidLabel(span[start..i]))
            {
                return false;
            }

            labels++;
            start = i + 1;
        }

        // A wildcard over a single label ("*.com") would span a whole top-level domain.
        return !(allowWildcard && span.StartsWith("*.")) || labels >= 2;
    }

    private static bool IsValidLabel(ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
