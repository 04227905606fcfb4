using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>
/// What changes when an OCPI object crosses from a 2.2.1 party to a 2.3.0 one or back: the CdrToken/Token type EMAID
/// (OTHER in 2.2.1), and prices and taxes (2.2.1 Price {excl_vat, incl_vat}; 2.3.0 Price {before_taxes, taxes[]},
/// Tariff min/max PriceLimit {before_taxes, after_taxes} and the Tariff's tax_included). Walks any object or list, so
/// sessions, CDRs (with their tariffs) and tariffs all translate alike.
/// </summary>
public static class VersionTranslation
{
    public static byte[] Body(byte[] body, OcpiVersion fromVersion, OcpiVersion toVersion)
    {
        if (fromVersion == toVersion || body.Length == 0 || !MayNeedTranslation(body, toVersion)) return body;
        try
        {
            var node = JsonNode.Parse(body);
            return node is null ? body : JsonSerializer.SerializeToUtf8Bytes(Node(node, fromVersion, toVersion), OcpiJsonContext.Default.JsonNode);
        }
        catch (JsonException) { return body; }
    }

    /// <summary>Cheap pre-check on the raw bytes: most bodies carry nothing that differs between the versions.</summary>
    public static bool MayNeedTranslation(ReadOnlySpan<byte> body, OcpiVersion toVersion) => toVersion == OcpiVersion.V221
        ? body.IndexOf("\"EMAID\""u8) >= 0 || body.IndexOf("\"before_taxes\""u8) >= 0 || body.IndexOf("\"tax_included\""u8) >= 0
        : body.IndexOf("\"OTHER\""u8) >= 0 || body.IndexOf("\"excl_vat\""u8) >= 0 || body.IndexOf("\"price_components\""u8) >= 0;

    public static JsonNode Node(JsonNode node, OcpiVersion fromVersion, OcpiVersion toVersion)
    {
        if (fromVersion == toVersion) return node;
        switch (node)
        {
            case JsonObject o:
                if (o["cdr_token"] is JsonObject token) TokenTypeTranslation.ForVersion(token, toVersion);
                if (o["token"] is JsonObject t2 && t2["uid"] != null) TokenTypeTranslation.ForVersion(t2, toVersion);
                if (IsTariff(o)) TariffTaxes(o, toVersion);
                foreach (var (key, child) in o.ToList())
                {
                    if (child is JsonObject price && IsPrice(price) && !(IsTariff(o) && key is "min_price" or "max_price"))
                        o[key] = PriceForVersion(price, toVersion);
                    else if (child is JsonObject or JsonArray) Node(child, fromVersion, toVersion);
                }
                break;
            case JsonArray a:
                foreach (var child in a) if (child is JsonObject or JsonArray) Node(child, fromVersion, toVersion);
                break;
        }
        return node;
    }

    private static bool IsTariff(JsonObject o) => o["elements"] is JsonArray && o["currency"] != null;

    private static bool IsPrice(JsonObject o) => o.ContainsKey("excl_vat") || o.ContainsKey("before_taxes");

    /// <summary>
    /// A Tariff: 2.2.1 prices are always excluding VAT, with an optional VAT percentage per component; 2.3.0 says in
    /// tax_included (YES, NO, N/A) whether the component prices include taxes. min/max_price are PriceLimit in 2.3.0
    /// ({before_taxes, after_taxes}) and Price in 2.2.1 ({excl_vat, incl_vat}): the same two amounts renamed.
    /// </summary>
    private static void TariffTaxes(JsonObject tariff, OcpiVersion toVersion)
    {
        foreach (var key in new[] { "min_price", "max_price" })
            if (tariff[key] is JsonObject limit) Rename(limit, toVersion == OcpiVersion.V221 ? [("before_taxes", "excl_vat"), ("after_taxes", "incl_vat")]
                : [("excl_vat", "before_taxes"), ("incl_vat", "after_taxes")]);
        var components = tariff["elements"]!.AsArray().SelectMany(e => (e as JsonObject)?["price_components"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (toVersion == OcpiVersion.V221)
        {
            var included = tariff["tax_included"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
            tariff.Remove("tax_included");
            if (included != "YES") return;
            // 2.2.1 has no tax-inclusive prices: with a VAT percentage the price excluding it is computed (4 decimals,
            // OCPI's number precision); without one (North America: the rate is not known beforehand) the price stays as
            // it is, which a 2.2.1 party reads as a price without VAT: the amount the driver pays is kept.
            foreach (var c in components)
                if (Number(c["vat"]) is { } vat && Number(c["price"]) is { } price)
                    c["price"] = Math.Round(price / (1 + vat / 100m), 4, MidpointRounding.AwayFromZero);
        }
        else if (tariff["tax_included"] is null)
            // 2.2.1 prices always exclude VAT: taxes are added on top ("NO", as the official 2.3.0 examples translate
            // the 2.2.1 ones, with or without a VAT percentage).
            tariff["tax_included"] = "NO";
    }

    /// <summary>
    /// A Price outside tariffs (session and CDR costs). Towards 2.2.1 every tax amount is summed into incl_vat (their
    /// names, account numbers and percentages have no place there); towards 2.3.0 the difference incl_vat - excl_vat
    /// becomes one tax named "VAT", and a price with only excl_vat gets no taxes.
    /// </summary>
    private static JsonObject PriceForVersion(JsonObject price, OcpiVersion toVersion)
    {
        if (toVersion == OcpiVersion.V221)
        {
            if (!price.ContainsKey("before_taxes")) return price;
            var before = Number(price["before_taxes"]) ?? 0m;
            var result = new JsonObject { ["excl_vat"] = before };
            if (price["taxes"] is JsonArray taxes) result["incl_vat"] = before + taxes.Sum(t => Number((t as JsonObject)?["amount"]) ?? 0m);
            else if (price["after_taxes"] is { } after) result["incl_vat"] = after.DeepClone();
            return result;
        }
        if (!price.ContainsKey("excl_vat")) return price;
        var excl = Number(price["excl_vat"]) ?? 0m;
        var converted = new JsonObject { ["before_taxes"] = excl };
        if (Number(price["incl_vat"]) is { } incl)
            converted["taxes"] = new JsonArray(new JsonObject { ["name"] = "VAT", ["amount"] = incl - excl });
        return converted;
    }

    private static void Rename(JsonObject o, (string From, string To)[] names)
    {
        foreach (var (from, to) in names)
            if (o.Remove(from, out var value)) o[to] = value;
    }

    private static decimal? Number(JsonNode? n) =>
        n is JsonValue v && v.TryGetValue<decimal>(out var d) ? d
        : n is JsonValue s && s.TryGetValue<string>(out var text) && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var p) ? p
        : null;
}
