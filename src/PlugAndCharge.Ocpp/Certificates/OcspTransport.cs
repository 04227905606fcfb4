using System.Net.Http.Headers;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>Sends a DER OCSPRequest to a responder and returns the DER OCSPResponse (RFC 6960 Appendix A.1, POST).</summary>
public interface IOcspTransport
{
    Task<byte[]> PostAsync(Uri responder, byte[] request, CancellationToken ct);
}

/// <summary>
/// OCSP over HTTP. Redirects are not followed: the URL was checked against the allow-list, and a redirect would let a
/// responder send us anywhere. Responses are capped in size.
/// </summary>
public sealed class HttpOcspTransport : IOcspTransport, IDisposable
{
    private const int MaxResponseBytes = 64 * 1024;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        MaxResponseContentBufferSize = MaxResponseBytes,
    };

    public async Task<byte[]> PostAsync(Uri responder, byte[] request, CancellationToken ct)
    {
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await _http.PostAsync(responder, content, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"OCSP responder answered HTTP {(int)response.StatusCode}.");
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    public void Dispose() => _http.Dispose();
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
