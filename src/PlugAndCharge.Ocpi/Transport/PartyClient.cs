using System.Net.Http.Headers;
using System.Net.Sockets;
using PlugAndCharge.Core.Outbound;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Transport;

/// <summary>Who a forwarded request is from and to (the OCPI-from/to-* routing headers).</summary>
public readonly record struct RoutingParties(string? FromCountryCode, string? FromPartyId, string? ToCountryCode, string? ToPartyId);

/// <summary>
/// Calls one party. Each party has its own connection pool and its own bulkhead (a bounded number of calls in flight),
/// so a party that hangs uses up only its own connections and slots; nothing here is shared with other parties. A
/// circuit breaker stops calling a party after <c>breakerThreshold</c> failures in a row (timeouts, refused
/// connections): for <c>breakerOpenTime</c> its calls fail at once (as Busy, which callers treat as a timeout), then one
/// probe call decides whether it is back. A hanging party then costs the hub no connections and no waiting callers.
/// Every URL here came from a party (versions, endpoints, response_url), so connections go through
/// <see cref="OutboundHttp"/> (no internal addresses unless allow-listed, no redirects) and answers are capped in size;
/// a refused address is Unreachable like any other, so the party learns nothing about the hub's network.
/// </summary>
public sealed class PartyClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _bulkhead;
    private readonly int _breakerThreshold;
    private readonly long _breakerOpenMs;
    private int _consecutiveFailures;
    private long _openUntilMs;
    private int _probing;

    public PartyClient(int maxConcurrent, TimeSpan connectTimeout, int breakerThreshold = 5, TimeSpan? breakerOpenTime = null,
        OutboundNetworkPolicy? outbound = null, int maxResponseBytes = 8 * 1024 * 1024)
    {
        _breakerThreshold = breakerThreshold;
        _breakerOpenMs = (long)(breakerOpenTime ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        var handler = OutboundHttp.CreateHandler(outbound ?? OutboundNetworkPolicy.Default, connectTimeout);
        handler.MaxConnectionsPerServer = maxConcurrent;
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = maxResponseBytes };
        _bulkhead = new SemaphoreSlim(maxConcurrent, maxConcurrent);
    }

    /// <summary>Calls the party with a fresh X-Request-ID, the kept X-Correlation-ID and the routing headers.</summary>
    public async Task<PartyResponse> SendAsync(HttpMethod method, string url, string token, string correlationId, RoutingParties routing,
        ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken ct)
    {
        var probe = false;
        if (_breakerThreshold > 0 && Volatile.Read(ref _consecutiveFailures) >= _breakerThreshold)
        {
            // Open: fail fast until the open time has passed, then let exactly one probe through.
            if (Environment.TickCount64 < Volatile.Read(ref _openUntilMs) || Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
                return PartyResponse.Failed(PartyCallOutcome.Busy);
            probe = true;
        }
        if (!_bulkhead.Wait(0))
        {
            if (probe) Volatile.Write(ref _probing, 0);
            return PartyResponse.Failed(PartyCallOutcome.Busy);
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var outcome = PartyCallOutcome.Answered;
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
            return PartyResponse.Failed(outcome = PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is OperationCanceledException or TimeoutException)
        {
            return PartyResponse.Failed(outcome = PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            return PartyResponse.Failed(outcome = PartyCallOutcome.Timeout);
        }
        catch (HttpRequestException)
        {
            return PartyResponse.Failed(outcome = PartyCallOutcome.Unreachable);
        }
        finally
        {
            _bulkhead.Release();
            Record(outcome, probe, ct.IsCancellationRequested);
        }
    }

    private void Record(PartyCallOutcome outcome, bool probe, bool callerCancelled)
    {
        if (outcome == PartyCallOutcome.Answered && !callerCancelled) Volatile.Write(ref _consecutiveFailures, 0);
        else if (outcome is PartyCallOutcome.Timeout or PartyCallOutcome.Unreachable
                 && Interlocked.Increment(ref _consecutiveFailures) >= _breakerThreshold)
            Volatile.Write(ref _openUntilMs, Environment.TickCount64 + _breakerOpenMs);
        if (probe) Volatile.Write(ref _probing, 0);
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;

    public void Dispose()
    {
        _http.Dispose();
        _bulkhead.Dispose();
    }
}
