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

/// <summary>A remote answered with more than the caller accepts.</summary>
public sealed class ResponseTooLargeException(int maxBytes) : IOException($"The response is larger than {maxBytes} bytes.");
