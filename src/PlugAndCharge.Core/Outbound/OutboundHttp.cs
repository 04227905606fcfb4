using System.Net;
using System.Net.Sockets;

namespace PlugAndCharge.Core.Outbound;

/// <summary>
/// The one HTTP handler for calls to participant-supplied URLs: it resolves the host itself, keeps only the addresses
/// <see cref="OutboundNetworkPolicy"/> allows and connects to exactly those (a DNS answer that changes between check and
/// connect cannot slip an internal address in), follows no redirects, uses no proxy (a proxy would connect for us,
/// past the check), sends no cookies and bounds the connect time. Callers bound the whole call and the response size.
/// </summary>
public static class OutboundHttp
{
    public static SocketsHttpHandler CreateHandler(OutboundNetworkPolicy policy, TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = connectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectCallback = (context, ct) => ConnectAsync(policy, context.DnsEndPoint, ct),
    };

    /// <summary>Resolves, filters, then connects to an allowed address; refuses before any packet when none is allowed.</summary>
    public static async ValueTask<Stream> ConnectAsync(OutboundNetworkPolicy policy, DnsEndPoint endpoint, CancellationToken ct)
    {
        var host = endpoint.Host.Trim('[', ']');
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = policy.IsAllowedHost(host) ? addresses : addresses.Where(policy.IsAllowed).ToArray();
        if (allowed.Length == 0) throw new OutboundAddressRefusedException(host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a call failed while connecting, so the remote received nothing and trying again cannot act twice: refused,
    /// reset or timed out before the request went out. A policy refusal is not transient (the address stays internal).
    /// </summary>
    public static bool IsTransientConnectFailure(Exception e) =>
        e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } && !IsRefusedAddress(e);

    /// <summary>Whether a failed call failed because the policy refused the address (not because the remote did something).</summary>
    public static bool IsRefusedAddress(Exception e)
    {
        for (var x = e; x != null; x = x.InnerException)
            if (x is OutboundAddressRefusedException) return true;
        return false;
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> of a response body; more is an error (the caller's cap).</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int maxBytes, CancellationToken ct)
    {
        if (content.Headers.ContentLength > maxBytes) throw new ResponseTooLargeException(maxBytes);
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > maxBytes) throw new ResponseTooLargeException(maxBytes);
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}

/// <summary>
/// Reads the answer's body inside the handler chain, at most <paramref name="maxBytes"/>: placed below a resilience
/// handler, its timeout and circuit breaker then cover the body as well as the headers (a remote that sends headers and
/// then trickles its body times out like one that never answers). More than the cap fails the call (HttpRequestException).
/// </summary>
public sealed class BufferedResponseHandler(int maxBytes) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        try
        {
            await response.Content.LoadIntoBufferAsync(maxBytes, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}

/// <summary>A remote answered with more than the caller accepts.</summary>
public sealed class ResponseTooLargeException(int maxBytes) : IOException($"The response is larger than {maxBytes} bytes.");
