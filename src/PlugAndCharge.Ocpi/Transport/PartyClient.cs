using System.Diagnostics;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Net.Sockets;
using PlugAndCharge.Ocpi.Protocol;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace PlugAndCharge.Ocpi.Transport;

/// <summary>Who a forwarded request is from and to (the OCPI-from/to-* routing headers).</summary>
public readonly record struct RoutingParties(string? FromCountryCode, string? FromPartyId, string? ToCountryCode, string? ToPartyId);

/// <summary>
/// Calls one party through the hub's party HTTP client (<see cref="PartyClients"/>): past the party's bulkhead, the
/// request names the party, so it runs in that party's own resilience pipeline (circuit breaker, timeout), and what
/// happened becomes a <see cref="PartyCallOutcome"/>. A full bulkhead and an open breaker fail at once as Busy, which
/// callers treat as a timeout.
/// </summary>
public sealed class PartyClient
{
    private readonly HttpClient _http;
    private readonly string _partyId;
    private readonly StrongBox<int> _inFlight;
    private readonly int _maxInFlight;

    internal PartyClient(HttpClient http, string partyId, StrongBox<int> inFlight, int maxInFlight)
    {
        _http = http;
        _partyId = partyId;
        _inFlight = inFlight;
        _maxInFlight = maxInFlight;
    }

    /// <summary>Calls the party with a fresh X-Request-ID, the kept X-Correlation-ID and the routing headers.</summary>
    /// <param name="timeout">The whole call, including the answer's body and any retry of an idempotent request.</param>
    public async Task<PartyResponse> SendAsync(HttpMethod method, string url, string token, string correlationId, RoutingParties routing,
        ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken ct)
    {
        // The party's bulkhead: a full one fails at once, before any work for this party.
        if (Interlocked.Increment(ref _inFlight.Value) > _maxInFlight)
        {
            Interlocked.Decrement(ref _inFlight.Value);
            return PartyResponse.Failed(PartyCallOutcome.Busy);
        }
        try
        {
            if (!PartyClients.IsIdempotent(method)) return await AttemptAsync(method, url, token, correlationId, routing, body, timeout, ct);
            // A connect that failed is asked again while the call's time lasts; each attempt gets what is left of it.
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            return await PartyClients.ConnectRetries.ExecuteAsync(async attemptToken =>
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero) throw new TimeoutRejectedException();
                return await AttemptAsync(method, url, token, correlationId, routing, body, left, attemptToken);
            }, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Classify(e) is { } outcome)
        {
            return PartyResponse.Failed(outcome);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight.Value);
        }
    }

    /// <summary>One request through the party's pipeline (breaker, then this attempt's timeout over the body).</summary>
    private async Task<PartyResponse> AttemptAsync(HttpMethod method, string url, string token, string correlationId, RoutingParties routing,
        ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Options.Set(PartyClients.PartyKey, _partyId);
        request.Options.Set(PartyClients.TimeoutKey, timeout);
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
        // The pipeline has read (and capped) the body already; this only hands it over.
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        return new PartyResponse(PartyCallOutcome.Answered, (int)response.StatusCode, bytes, response.Content.Headers.ContentType?.MediaType,
            Header(response, OcpiHeaders.TotalCount), Header(response, OcpiHeaders.Limit), Header(response, OcpiHeaders.Link));
    }

    /// <summary>What a failed call was; null for what is not the party's doing (the caller gave up, a bug).</summary>
    internal static PartyCallOutcome? Classify(Exception e) => e switch
    {
        BrokenCircuitException => PartyCallOutcome.Busy,
        TimeoutRejectedException or OperationCanceledException => PartyCallOutcome.Timeout,
        HttpRequestException { InnerException: OperationCanceledException or TimeoutException } => PartyCallOutcome.Timeout,
        HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut } } => PartyCallOutcome.Timeout,
        HttpRequestException => PartyCallOutcome.Unreachable,
        _ => null,
    };

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;
}
