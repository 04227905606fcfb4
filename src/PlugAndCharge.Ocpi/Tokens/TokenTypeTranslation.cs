using System.Text.Json.Nodes;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Tokens;

/// <summary>
/// EMAID tokens across versions: 2.3.0 has token type EMAID; a 2.2.1 peer carries the same contract as type OTHER with
/// the EMAID in uid and contract_id. The hub keeps the 2.3.0 form and writes each peer its own.
/// </summary>
public static class TokenTypeTranslation
{
    /// <summary>The 2.3.0 type of a token and, for EMAIDs, the parsed contract ID (lenient: field EMAIDs often carry wrong check characters).</summary>
    public static string Canonical(string type, string uid, out Emaid? emaid)
    {
        emaid = null;
        if (string.Equals(type, TokenTypes.Emaid, StringComparison.OrdinalIgnoreCase))
        {
            Emaid.TryParse(uid, IdentifierStrictness.Lenient, out emaid, out _);
            return TokenTypes.Emaid;
        }
        if (string.Equals(type, TokenTypes.Other, StringComparison.OrdinalIgnoreCase) && Emaid.TryParse(uid, IdentifierStrictness.Lenient, out emaid, out _))
            return TokenTypes.Emaid;
        return type.ToUpperInvariant();
    }

    /// <summary>The type a peer of <paramref name="version"/> understands for a canonical type.</summary>
    public static string ForVersion(string canonicalType, OcpiVersion version) =>
        version == OcpiVersion.V221 && canonicalType == TokenTypes.Emaid ? TokenTypes.Other : canonicalType;

    /// <summary>Rewrites type (and normalizes uid) of a Token object for a peer of <paramref name="version"/>.</summary>
    public static JsonObject ForVersion(JsonObject token, OcpiVersion version)
    {
        var type = token["type"]?.GetValue<string>();
        var uid = token["uid"]?.GetValue<string>();
        if (type is null || uid is null) return token;
        var canonical = Canonical(type, uid, out var emaid);
        if (emaid != null) token["uid"] = emaid.Normalized;
        token["type"] = ForVersion(canonical, version);
        return token;
    }
}
