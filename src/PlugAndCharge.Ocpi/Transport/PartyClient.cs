using System.Net.Http.Headers;
using System.Net.Sockets;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Transport;

/// <summary>Who a forwarded request is from and to (the OCPI-from/to-* routing headers).</summary>
public readonly record struct RoutingParties(string? FromCountryCode, string? FromPartyId, string? ToCountryCode, string? ToPartyId);

/// <summary>
/// Calls one party. Each party has its own connection pool and its own bulkhead (a bounded number of calls in flight),
/// so a party that hangs uses up only its own connections and slots; nothing here is shared with other parties.
/// </summary>
public sealed class PartyClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _bulkhead;

    public PartyClient(int maxConcurrent, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = connectTimeout,
            MaxConnectionsPerServer = maxConcurrent,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _bulkhead = new SemaphoreSlim(maxConcurrent, maxConcurrent);
    }

    /// <summary>Calls the party with a fresh X-Request-ID, the kept X-Correlation-ID and the routing headers.</summary>
    public async Task<PartyResponse> SendAsync(HttpMethod method, string url, string token, string correlationId, RoutingParties routing,
        ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken ct)
    {
        if (!_bulkhead.Wait(0)) return PartyResponse.Failed(PartyCallOutcome.Busy);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.TryAddWithoutValidation(OcpiHeaders.Authorization, CredentialsTokens.AuthorizationHeader(token));
            request.Headers.TryAddWithoutValidation(OcpiHeaders.RequestId, Guid.NewGuid().ToString());
            request.Headers.TryAddWithoutValidation(OcpiHeaders.CorrelationId, correlationId);
            if (routing.FromCountryCode != null) request.Headers.TryAddWithoutValidation(OcpiHeaders.FromCountryCode, routing.FromCountryCode);
            if (routing.FromPartyId != null) request.Headers.TryAddWithoutValidation(OcpiHeaders.FromPartyId, routing.FromPartyId);
            if (routing.ToCountryCode != null) request.Headers.TryAddWithoutValidation(OcpiHeaders.ToCountryCode, routing.ToCountryCode);
            if (routing.ToPartyId != null) request.Headers.TryAddWithoutValidation(OcpiHeaders.ToPartyId, routing.ToPartyId);
            if (!body.IsEmpty)
            {
                request.Content = new ReadOnlyMemoryContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token);
            var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token);
            return new PartyResponse(PartyCallOutcome.Answered, (int)response.StatusCode, bytes, response.Content.Headers.ContentType?.MediaType,
                Header(response, OcpiHeaders.TotalCount), Header(response, OcpiHeaders.Limit), Header(response, OcpiHeaders.Link));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return PartyResponse.Failed(PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is OperationCanceledException or TimeoutException)
        {
            return PartyResponse.Failed(PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            return PartyResponse.Failed(PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException)
        {
            return PartyResponse.Failed(PartyCallOutcome.Unreachable);
        }
        finally
        {
            _bulkhead.Release();
        }
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;

    public void Dispose()
    {
        _http.Dispose();
        _bulkhead.Dispose();
    }
}
