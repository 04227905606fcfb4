using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Stores;

/// <summary>Webhook endpoints and deliveries in process memory.</summary>
public sealed class InMemoryWebhookStore(InMemoryContractData data, IAuditLog audit) : IWebhookStore
{
    public async Task AddEndpointAsync(WebhookEndpoint endpoint, AuditEvent e, CancellationToken ct = default)
    {
        lock (data.Lock) data.Endpoints[endpoint.Id] = endpoint;
        await audit.AppendAsync(e, ct);
    }

    public Task<WebhookEndpoint?> GetEndpointAsync(Guid id, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult(data.Endpoints.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string ownerId, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<WebhookEndpoint>>(data.Endpoints.Values.Where(e => e.OwnerId == ownerId).OrderBy(e => e.CreatedAt).ToList());
    }

    public async Task<bool> UpdateEndpointAsync(WebhookEndpoint endpoint, AuditEvent e, CancellationToken ct = default)
    {
        bool found;
        lock (data.Lock)
        {
            found = data.Endpoints.ContainsKey(endpoint.Id);
            if (found) data.Endpoints[endpoint.Id] = endpoint;
        }
        if (found) await audit.AppendAsync(e, ct);
        return found;
    }

    public async Task<bool> DeleteEndpointAsync(Guid id, AuditEvent e, CancellationToken ct = default)
    {
        bool removed;
        lock (data.Lock) removed = data.Endpoints.Remove(id);
        if (removed) await audit.AppendAsync(e, ct);
        return removed;
    }

    public Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            var due = data.Deliveries.Values.Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now).OrderBy(d => d.NextAttemptAt).Take(max).ToList();
            foreach (var d in due) data.Deliveries[d.Id] = d with { NextAttemptAt = now + lease };
            return Task.FromResult<IReadOnlyList<WebhookDelivery>>(due);
        }
    }

    public Task RecordAttemptAsync(WebhookAttempt attempt, WebhookDeliveryState state, DateTimeOffset? nextAttemptAt, CancellationToken ct = default)
    {
        lock (data.Lock)
        {
            data.Attempts.Add(attempt);
            var d = data.Deliveries[attempt.DeliveryId];
            data.Deliveries[d.Id] = d with
            {
                State = state, Attempts = attempt.Attempt, LastStatusCode = attempt.StatusCode, LastError = attempt.Error,
                NextAttemptAt = nextAttemptAt ?? d.NextAttemptAt, DeliveredAt = state == WebhookDeliveryState.Delivered ? attempt.At : d.DeliveredAt,
            };
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(Guid endpointId, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<WebhookDelivery>>(data.Deliveries.Values.Where(d => d.EndpointId == endpointId).OrderBy(d => d.NextAttemptAt).ToList());
    }

    public Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(Guid deliveryId, CancellationToken ct = default)
    {
        lock (data.Lock) return Task.FromResult<IReadOnlyList<WebhookAttempt>>(data.Attempts.Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Attempt).ToList());
    }
}
