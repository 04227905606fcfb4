namespace PlugAndCharge.Pki.Validation;

/// <summary>rfc822Name syntax and RFC 5280 §4.2.1.10 mailbox constraints; every character, '*' included, is literal.</summary>
internal static class EmailNames
{
    /// <summary>A mailbox: one '@', a non-empty local part, a host name after it.</summary>
    public static bool IsValidMailbox(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && value.IndexOf('@', at + 1) < 0 && DnsNameRules.IsValidHostName(value[(at + 1)..]);
    }

    /// <summary>A constraint: a mailbox, a host, or ".domain" for every host below it.</summary>
    public static bool IsValidConstraint(string value)
    {
        if (value.Contains('@', StringComparison.Ordinal))
        {
            return IsValidMailbox(value);
        }

        return value.StartsWith('.') ? DnsNameRules.IsValidHostName(value[1..]) : DnsNameRules.IsValidHostName(value);
    }

    public static bool IsWithin(string mailbox, string constraint)
    {
        var at = mailbox.IndexOf('@', StringComparison.Ordinal);
        var host = mailbox[(at + 1)..];
        var constraintAt = constraint.IndexOf('@', StringComparison.Ordinal);
        if (constraintAt >= 0)
        {
            // The local part is case-sensitive, the host is not (RFC 5280 §7.5).
            return string.Equals(mailbox[..at], constraint[..constraintAt], StringComparison.Ordinal) &&
                   string.Equals(host, constraint[(constraintAt + 1)..], StringComparison.OrdinalIgnoreCase);
        }

        if (constraint.StartsWith('.'))
        {
            return host.Length > constraint.Length - 1 && host.EndsWith(constraint, StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(host, constraint, StringComparison.OrdinalIgnoreCase);
    }
}
