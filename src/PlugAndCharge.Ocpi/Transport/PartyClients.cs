using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using PlugAndCharge.Core.Outbound;
using PlugAndCharge.Ocpi.Parties;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace PlugAndCharge.Ocpi.Transport;

/// <summary>
/// The hub's calls to parties: one named HttpClient whose resilience handler keeps a pipeline per party (keyed by the
/// party's id), so a party that hangs opens only its own circuit breaker; nothing is shared with other parties but the
/// connection pool, which has no limit of its own. Per party:
/// <list type="bullet">
/// <item>a bulkhead of <see cref="OcpiHubOptions.MaxConcurrentCallsPerParty"/> calls in flight, counted here; more fail
/// at once (Busy);</item>
/// <item>a circuit breaker: once at least <see cref="OcpiHubOptions.CircuitBreakerFailures"/> calls within
/// <see cref="OcpiHubOptions.CircuitBreakerSamplingDuration"/> have ended and none got an answer (timeouts, refused
/// connections), the party's calls fail at once for <see cref="OcpiHubOptions.CircuitBreakerOpenTime"/>, then one probe
/// call decides whether it is back. A hanging party then costs the hub no connections and no waiting callers;</item>
/// <item>the attempt's timeout (the rest of the call's: the party's own or <see cref="OcpiHubOptions.PartyTimeout"/>),
/// over the body;</item>
/// <item>retries of a failed connect, only for idempotent methods (RFC 9110 §9.2.2) and only within the call's
/// timeout, by <see cref="ConnectRetries"/> around the party's pipeline: a real-time authorization (POST) is asked once,
/// so it never outlives its deadline or reaches the eMSP twice.</item>
/// </list>
/// The bulkhead is a counter and the retry sits outside the handler, so the relay's POST crosses only the breaker and
/// the timeout: Polly's rate-limiter and retry layers cost a fifth of the relay's capacity on every call
/// (docs/performance.md).
/// Every URL here came from a party (versions, endpoints, response_url), so connections go through
/// <see cref="OutboundHttp"/> (no internal addresses unless allow-listed, no redirects) and answers are capped in size;
/// a refused address is Unreachable like any other, so the party learns nothing about the hub's network.
/// </summary>
public sealed class PartyClients(IHttpClientFactory factory, OcpiHubOptions options)
{
    internal const string HttpClientName = "ocpi-parties";
    internal static readonly HttpRequestOptionsKey<string> PartyKey = new("pnc.ocpi.party");
    internal static readonly HttpRequestOptionsKey<TimeSpan> TimeoutKey = new("pnc.ocpi.timeout");

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StrongBox<int>> _inFlight = new(StringComparer.Ordinal);

    public PartyClient For(PartyRecord party) =>
        new(factory.CreateClient(HttpClientName), party.Id, _inFlight.GetOrAdd(party.Id, _ => new StrongBox<int>()), options.MaxConcurrentCallsPerParty);

    /// <summary>Connect retries of idempotent calls: a connect that failed reached nobody, so asking again is safe.</summary>
    internal static readonly ResiliencePipeline ConnectRetries = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(OutboundHttp.IsTransientConnectFailure),
        })
        .Build();

    public TimeSpan TimeoutFor(PartyRecord party) => party.Timeout ?? options.PartyTimeout;

    internal static void Register(IServiceCollection services, OcpiHubOptions options)
    {
        var client = services.AddHttpClient(HttpClientName, http =>
            {
                http.Timeout = Timeout.InfiniteTimeSpan; // each call's own, in its party's pipeline
                http.MaxResponseContentBufferSize = options.MaxResponseBytes;
            })
            // Connects are bounded by the call's timeout; PooledConnectionLifetime renews connections, so one handler lives on.
            .ConfigurePrimaryHttpMessageHandler(() => OutboundHttp.CreateHandler(options.Outbound, Timeout.InfiniteTimeSpan))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        client.AddResilienceHandler("ocpi-party", (pipeline, _) => Configure(pipeline, options))
            .SelectPipelineBy(_ => request => request.Options.TryGetValue(PartyKey, out var party) ? party : "");
        client.AddHttpMessageHandler(() => new BufferedResponseHandler(options.MaxResponseBytes));
    }

    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, OcpiHubOptions options)
    {
        if (options.CircuitBreakerFailures > 0)
            pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = 1.0,
                MinimumThroughput = options.CircuitBreakerFailures,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerOpenTime,
                // Any answer, whatever its status, shows the party is there; only calls that got none count against it.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException),
            });
        pipeline.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(
                args.Context.GetRequestMessage() is { } request && request.Options.TryGetValue(TimeoutKey, out var timeout) ? timeout : options.PartyTimeout),
        });
    }

    internal static bool IsIdempotent(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Options;
}
