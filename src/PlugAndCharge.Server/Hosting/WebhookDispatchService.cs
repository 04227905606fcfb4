using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Contracts.Stores;

namespace PlugAndCharge.Server.Hosting;

/// <summary>
/// Delivers the webhook outbox while the host runs (WebhookDispatcher.RunAsync) and stops with it. Deliveries are
/// leased in the database, so several instances may run this side by side. A failure other than the database being
/// away (which the dispatcher rides out itself) is logged and the loop starts again after a pause, instead of taking
/// the host down.
/// </summary>
public sealed class WebhookDispatchService(IWebhookStore outbox, WebhookEndpoints endpoints, WebhookDispatchOptions options, IHttpClientFactory httpClients, TimeProvider clock,
    ILogger<WebhookDispatchService> log)
    : BackgroundService
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Receivers are OEM systems at URLs the OEM chose: the client filters addresses and bounds and retries each attempt.
        var http = httpClients.CreateClient(WebhookHttp.ClientName);
        var dispatcher = new WebhookDispatcher(outbox, endpoints, http, options, clock);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await dispatcher.RunAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Webhook dispatch failed; restarting in {Delay}", RestartDelay);
                try { await Task.Delay(RestartDelay, clock, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
