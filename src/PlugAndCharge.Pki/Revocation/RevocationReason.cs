namespace PlugAndCharge.Pki.Revocation;

/// <summary>CRLReason, RFC 5280 §5.3.1 (value 7 is unused).</summary>
public enum RevocationReason
{
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

public static class RevocationReasons
{
    public static RevocationReason Parse(string text)
    {
        var t = text.Replace("-", "").Replace("_", "").ToLowerInvariant();
        foreach (var r in Enum.GetValues<RevocationReason>())
            if (r.ToString().ToLowerInvariant() == t || ((int)r).ToString() == t) return r;
        throw new PkiException(PkiError.Malformed, $"Unknown revocation reason '{text}' (unspecified, keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aaCompromise).");
    }

    /// <summary>The camelCase name of RFC 5280 / OpenSSL.</summary>
    public static string Name(this RevocationReason r) => r switch
    {
        RevocationReason.CaCompromise => "cACompromise",
        RevocationReason.AaCompromise => "aACompromise",
        RevocationReason.RemoveFromCrl => "removeFromCRL",
        _ => char.ToLowerInvariant(r.ToString()[0]) + r.ToString()[1..],
    };
}

/// <summary>The state after a revocation request: idempotent, so a repeat reports the first revocation.</summary>
public sealed record RevocationOutcome(bool Found, bool AlreadyRevoked, DateTimeOffset? RevokedAt, RevocationReason? Reason);
