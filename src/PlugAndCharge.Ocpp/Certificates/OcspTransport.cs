using System.Net.Http.Headers;
using PlugAndCharge.Core.Outbound;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>Sends a DER OCSPRequest to a responder and returns the DER OCSPResponse (RFC 6960 Appendix A.1, POST).</summary>
public interface IOcspTransport
{
    /// <param name="foreign">A station named the responder (allow-listed, but still a URL from outside): the outbound
    /// address policy applies. Our own responder's URL is the operator's configuration and is not filtered.</param>
    Task<byte[]> PostAsync(Uri responder, byte[] request, bool foreign, CancellationToken ct);
}

/// <summary>
/// OCSP over HTTP. Redirects are not followed: the URL was checked against the allow-list, and a redirect would let a
/// responder send us anywhere. Responses are capped in size. Foreign responders are reached through
/// <see cref="OutboundHttp"/>, so an allow-listed name that resolves to an internal address is still refused.
/// </summary>
public sealed class HttpOcspTransport(OcppOptions options) : IOcspTransport, IDisposable
{
    private const int MaxResponseBytes = 64 * 1024;
    private readonly HttpClient _own = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        MaxResponseContentBufferSize = MaxResponseBytes,
    };
    private readonly HttpClient _foreign = new(OutboundHttp.CreateHandler(options.Outbound, options.OcspFetchTimeout))
    {
        MaxResponseContentBufferSize = MaxResponseBytes,
    };

    public async Task<byte[]> PostAsync(Uri responder, byte[] request, bool foreign, CancellationToken ct)
    {
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await (foreign ? _foreign : _own).PostAsync(responder, content, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"OCSP responder answered HTTP {(int)response.StatusCode}.");
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    public void Dispose()
    {
        _own.Dispose();
        _foreign.Dispose();
    }
}

/// <summary>The configured foreign OCSP responders (docs/domain.md §6: never an arbitrary station-supplied URL).</summary>
public static class OcspResponderAllowList
{
    public static bool IsAllowed(IEnumerable<string> allowed, string? url, out Uri uri)
    {
        uri = null!;
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var parsed)) return false;
        if (parsed.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(parsed.UserInfo)) return false;
        var text = parsed.GetLeftPart(UriPartial.Path);
        foreach (var entry in allowed)
        {
            var e = entry.Trim();
            var match = e.EndsWith('/')
                ? text.StartsWith(e, StringComparison.OrdinalIgnoreCase)
                : string.Equals(text.TrimEnd('/'), e.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
            if (match && parsed.Query.Length == 0) { uri = parsed; return true; }
        }
        return false;
    }
}
