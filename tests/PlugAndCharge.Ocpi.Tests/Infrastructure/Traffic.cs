using System.Collections.Concurrent;

namespace PlugAndCharge.Ocpi.Tests.Infrastructure;

/// <summary>One HTTP exchange seen on the wire, party -> hub or hub -> party.</summary>
public sealed record Exchange(string Method, Uri Url, IReadOnlyDictionary<string, string> RequestHeaders, string RequestBody,
    int Status, IReadOnlyDictionary<string, string> ResponseHeaders, string ResponseBody, string Observer);

/// <summary>Every exchange of a test, for OpenAPI validation at its end.</summary>
public sealed class TrafficLog
{
    private readonly ConcurrentQueue<Exchange> _exchanges = new();

    public void Add(Exchange e) => _exchanges.Enqueue(e);

    public IReadOnlyList<Exchange> All => _exchanges.ToArray();

    /// <summary>Validates everything captured so far against the official OpenAPI and fails the test on any violation.</summary>
    public void AssertConformant(int minimumExchanges = 1)
    {
        var all = All;
        Xunit.Assert.True(all.Count >= minimumExchanges, $"Expected at least {minimumExchanges} captured exchanges, saw {all.Count}.");
        var problems = all.SelectMany(e => OpenApiConformance.Shared.Check(e).Select(p => $"{e.Observer} {e.Method} {e.Url.PathAndQuery} -> {e.Status}: {p}")).ToList();
        Xunit.Assert.True(problems.Count == 0, "OCPI traffic violates the official OpenAPI:\n" + string.Join("\n", problems));
    }
}

/// <summary>Captures what a party sends to the hub and what comes back.</summary>
public sealed class CapturingHandler(TrafficLog log, string observer) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var requestBody = request.Content is null ? "" : await request.Content.ReadAsStringAsync(ct);
        var response = await base.SendAsync(request, ct);
        var responseBody = await response.Content.ReadAsStringAsync(ct);
        var reqHeaders = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var resHeaders = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        log.Add(new Exchange(request.Method.Method, request.RequestUri!, reqHeaders, requestBody, (int)response.StatusCode, resHeaders, responseBody, observer));
        return response;
    }
}
