using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Core.Outbound;
using Polly.Timeout;

namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>Retry schedule of webhook deliveries.</summary>
public sealed class WebhookDispatchOptions
{
    public int MaxAttempts { get; set; } = 8;
    /// <summary>Delay after the first failure; doubles per attempt (exponential back-off) up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>One delivery attempt, with its immediate retries (<see cref="WebhookHttp"/>).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Retries within an attempt after a transient failure, before the attempt counts as failed.</summary>
    public int ImmediateRetries { get; set; } = 2;
    /// <summary>Delay before the first immediate retry; doubles (with jitter) for the next.</summary>
    public TimeSpan ImmediateRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>How long a claimed delivery is reserved for this dispatcher before another may take it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public int BatchSize { get; set; } = 32;
}

/// <summary>
/// Delivers the webhook outbox: POSTs each pending event to its endpoint with an HMAC-SHA256 signature of the body
/// (headers <c>payload-signature: hex</c> and <c>X-Hubject-Signature: sha256=hex</c>, as OPCP documents), records
/// every attempt, retries failures with exponential back-off and gives up after <see cref="WebhookDispatchOptions.MaxAttempts"/>.
/// The outbox rows were written in the same transaction as the contract change, so no event is lost to a crash.
/// A failed attempt is recorded as one of a few fixed texts, never the remote's words or the socket error: the
/// deliveries API must not tell an OEM what answers at an address or whether a port is open (a port scanner).
/// </summary>
/// <param name="http">The client of <see cref="WebhookHttp.AddWebhookHttpClient"/>: its pipeline bounds each attempt and retries it.</param>
public sealed class WebhookDispatcher(IWebhookStore store, WebhookEndpoints endpoints, HttpClient http, WebhookDispatchOptions options, TimeProvider clock)
{
    /// <summary>Delivers what is due now; returns how many deliveries were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct = default)
    {
        var due = await store.ClaimDueAsync(clock.GetUtcNow(), options.BatchSize, options.Lease, ct);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (d, token) => await DeliverAsync(d, token));
        return due.Count;
    }

    /// <summary>Runs until cancelled (a hosted service calls this).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var n = 0;
            try { n = await RunOnceAsync(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException) { /* the store is away: try again next poll */ }
            if (n == 0)
            {
                try { await Task.Delay(options.PollInterval, clock, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>HMAC-SHA256 of the body with the endpoint secret, lower-case hex: what receivers recompute.</summary>
    public static string Signature(byte[] secret, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private async Task DeliverAsync(WebhookDelivery delivery, CancellationToken ct)
    {
        var attempt = delivery.Attempts + 1;
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? error = null;
        var endpoint = await store.GetEndpointAsync(delivery.EndpointId, ct);
        if (endpoint == null || endpoint.Status != WebhookEndpointStatus.Enabled)
        {
            await store.RecordAttemptAsync(new WebhookAttempt(delivery.Id, attempt, clock.GetUtcNow(), null, "endpoint deleted or disabled", TimeSpan.Zero), WebhookDeliveryState.Failed, null, ct);
            return;
        }
        try
        {
            var body = Encoding.UTF8.GetBytes(delivery.Payload);
            var secret = endpoints.Secret(endpoint);
            var signature = Signature(secret, body);
            CryptographicOperations.ZeroMemory(secret);
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("payload-signature", signature);
            request.Headers.TryAddWithoutValidation("X-Hubject-Signature", "sha256=" + signature);
            request.Headers.TryAddWithoutValidation("X-Event-Id", delivery.EventId.ToString());
            // The answer's body is never read: only its status counts.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode) error = $"HTTP {status}";
        }
        catch (HttpRequestException e) { error = OutboundHttp.IsRefusedAddress(e) ? DeliveryErrors.AddressNotAllowed : DeliveryErrors.ConnectionFailed; }
        catch (Exception e) when (e is TimeoutRejectedException or OperationCanceledException && !ct.IsCancellationRequested) { error = DeliveryErrors.Timeout; }
        var elapsed = Stopwatch.GetElapsedTime(started);
        var now = clock.GetUtcNow();
        var record = new WebhookAttempt(delivery.Id, attempt, now, status, error, elapsed);
        if (error == null) await store.RecordAttemptAsync(record, WebhookDeliveryState.Delivered, null, ct);
        else if (attempt >= options.MaxAttempts) await store.RecordAttemptAsync(record, WebhookDeliveryState.Failed, null, ct);
        else await store.RecordAttemptAsync(record, WebhookDeliveryState.Pending, now + Backoff(attempt), ct);
    }

    /// <summary>The only texts a failed attempt records besides "HTTP status".</summary>
    public static class DeliveryErrors
    {
        /// <summary>The URL leads to an internal address that is not on the outbound allow-list; nothing was sent.</summary>
        public const string AddressNotAllowed = "address not allowed";
        /// <summary>Not resolvable, refused, reset or a TLS failure: deliberately one text for all of them.</summary>
        public const string ConnectionFailed = "connection failed";
        public const string Timeout = "timeout";
    }

    private TimeSpan Backoff(int attempt)
    {
        var delay = options.FirstRetryDelay * Math.Pow(2, attempt - 1);
        return delay > options.MaxDelay ? options.MaxDelay : delay;
    }
}
