using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using PlugAndCharge.Core.Outbound;
using Polly;
using Polly.Retry;

namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>
/// The HttpClient that <see cref="WebhookDispatcher"/> delivers through. Receivers are OEM systems at URLs the OEM
/// chose, so connections go through <see cref="OutboundHttp"/> (no internal addresses unless allow-listed, no
/// redirects, no cookies). A delivery is bounded by <see cref="WebhookDispatchOptions.RequestTimeout"/> as a whole and
/// retried within it on a transient failure (a failed connect, HTTP 408, 429 or 5xx): the receiver deduplicates by the
/// delivery's stable X-Event-Id, so a POST it did process costs it nothing the second time. What still fails is
/// recorded as one attempt and comes back through the outbox's back-off.
/// </summary>
public static class WebhookHttp
{
    public const string ClientName = "webhooks";

    public static IHttpClientBuilder AddWebhookHttpClient(this IServiceCollection services, WebhookDispatchOptions options, OutboundNetworkPolicy outbound)
    {
        var client = services.AddHttpClient(ClientName, http =>
            {
                http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's, over every attempt
                http.MaxResponseContentBufferSize = 64 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(() => OutboundHttp.CreateHandler(outbound, options.RequestTimeout))
            .RemoveAllLoggers();
        client.AddResilienceHandler("webhook", pipeline => pipeline
            .AddTimeout(options.RequestTimeout)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.ImmediateRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ImmediateRetryDelay,
                // Not an address the policy refused: that stays refused, and the attempt says so.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e
                    ? e is HttpRequestException && !OutboundHttp.IsRefusedAddress(e)
                    : HttpClientResiliencePredicates.IsTransient(args.Outcome)),
            }));
        return client;
    }
}
