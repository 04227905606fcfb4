using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Core.Outbound;
using Polly;
using Polly.Retry;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>
/// Sends a DER OCSPRequest to a responder and returns the DER OCSPResponse (RFC 6960 Appendix A.1, POST); bounds the
/// call itself (<see cref="OcppOptions.OcspFetchTimeout"/>) and throws when there is no usable answer.
/// </summary>
public interface IOcspTransport
{
    /// <param name="foreign">A station named the responder (allow-listed, but still a URL from outside): the outbound
    /// address policy applies. Our own responder's URL is the operator's configuration and is not filtered.</param>
    Task<byte[]> PostAsync(Uri responder, byte[] request, bool foreign, CancellationToken ct);
}

/// <summary>
/// OCSP over HTTP, through two named clients of IHttpClientFactory (<see cref="Register"/>). Redirects are not followed:
/// the URL was checked against the allow-list, and a redirect would let a responder send us anywhere. Responses are
/// capped in size. Foreign responders are reached through <see cref="OutboundHttp"/>, so an allow-listed name that
/// resolves to an internal address is still refused. Each fetch is bounded by <see cref="OcppOptions.OcspFetchTimeout"/>
/// as a whole (body included) and retried within it after a failed connect or an HTTP 5xx: an OCSP request only asks,
/// so sending it again is harmless (RFC 6960 Appendix A.1). A fetch that runs out of time throws Polly's
/// <see cref="Polly.Timeout.TimeoutRejectedException"/>.
/// </summary>
public sealed class HttpOcspTransport(IHttpClientFactory httpClients) : IOcspTransport
{
    private const string Own = "ocsp";
    private const string Foreign = "ocsp-foreign";
    private const int MaxResponseBytes = 64 * 1024;

    public async Task<byte[]> PostAsync(Uri responder, byte[] request, bool foreign, CancellationToken ct)
    {
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await httpClients.CreateClient(foreign ? Foreign : Own).PostAsync(responder, content, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"OCSP responder answered HTTP {(int)response.StatusCode}.");
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    internal static void Register(IServiceCollection services, OcppOptions options)
    {
        Add(Own, () => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        Add(Foreign, () => OutboundHttp.CreateHandler(options.Outbound, options.OcspFetchTimeout));

        void Add(string name, Func<HttpMessageHandler> handler)
        {
            var client = services.AddHttpClient(name, http =>
                {
                    http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's, over every attempt
                    http.MaxResponseContentBufferSize = MaxResponseBytes;
                })
                .ConfigurePrimaryHttpMessageHandler(handler)
                .RemoveAllLoggers();
            client.AddResilienceHandler(name, pipeline => pipeline
                .AddTimeout(options.OcspFetchTimeout)
                .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = 2,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(100),
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e
                        ? OutboundHttp.IsTransientConnectFailure(e)
                        : (int)args.Outcome.Result!.StatusCode >= 500),
                }));
            client.AddHttpMessageHandler(() => new BufferedResponseHandler(MaxResponseBytes));
        }
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
