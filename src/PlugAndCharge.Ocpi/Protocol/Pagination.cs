using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>
/// OCPI pagination (2.2.1 §4.1.3): offset, limit, date_from (inclusive), date_to (exclusive) in; X-Total-Count,
/// X-Limit and a Link to the next page out. <see cref="Cursor"/> is the hub's own opaque parameter in the Links it hands
/// out (where the previous page ended), so a client following them pages by key, not by ever larger offsets.
/// </summary>
public sealed record Pagination(int Offset, int Limit, DateTimeOffset? DateFrom, DateTimeOffset? DateTo, string? Cursor = null)
{
    public static bool TryRead(IQueryCollection query, int maxLimit, out Pagination page, out string error)
    {
        page = new Pagination(0, maxLimit, null, null);
        error = "";
        var offset = 0;
        var limit = maxLimit;
        DateTimeOffset? from = null, to = null;
        if (query.TryGetValue("offset", out var o) && (!int.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset < 0))
        { error = "offset must be a non-negative integer."; return false; }
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        { error = "limit must be a positive integer."; return false; }
        if (query.TryGetValue("date_from", out var f))
        {
            if (!UtcTimestampConverter.TryParse(f, out var t)) { error = "date_from must be an RFC 3339 timestamp."; return false; }
            from = t;
        }
        if (query.TryGetValue("date_to", out var d))
        {
            if (!UtcTimestampConverter.TryParse(d, out var t)) { error = "date_to must be an RFC 3339 timestamp."; return false; }
            to = t;
        }
        page = new Pagination(offset, Math.Min(limit, maxLimit), from, to, query.TryGetValue("cursor", out var c) ? c.ToString() : null);
        return true;
    }

    /// <summary>Sets X-Total-Count, X-Limit and, when more follows, Link: &lt;next&gt;; rel="next".</summary>
    public void WriteHeaders(HttpResponse response, string baseUrl, int total, int returned)
    {
        response.Headers[OcpiHeaders.TotalCount] = total.ToString(CultureInfo.InvariantCulture);
        response.Headers[OcpiHeaders.Limit] = Limit.ToString(CultureInfo.InvariantCulture);
        if (Offset + returned < total) response.Headers[OcpiHeaders.Link] = $"<{NextUrl(baseUrl, returned)}>; rel=\"next\"";
    }

    /// <summary>The target of a Link header's <c>&lt;…&gt;</c> (the next page a party hands out), or null when it has none.</summary>
    public static Uri? LinkTarget(string? link)
    {
        if (link is null) return null;
        var start = link.IndexOf('<');
        var end = link.IndexOf('>');
        return start >= 0 && end > start && Uri.TryCreate(link[(start + 1)..end], UriKind.Absolute, out var target) ? target : null;
    }

    public string NextUrl(string baseUrl, int returned, string? cursor = null)
    {
        var q = $"offset={Offset + returned}&limit={Limit}";
        if (DateFrom is { } f) q += "&date_from=" + Uri.EscapeDataString(UtcTimestampConverter.Format(f));
        if (DateTo is { } t) q += "&date_to=" + Uri.EscapeDataString(UtcTimestampConverter.Format(t));
        if (cursor != null) q += "&cursor=" + Uri.EscapeDataString(cursor);
        return baseUrl + "?" + q;
    }
}
