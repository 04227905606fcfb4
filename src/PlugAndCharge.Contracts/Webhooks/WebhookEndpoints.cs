using System.Security.Cryptography;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>A created endpoint and its HMAC secret, shown once (OPCP returns the secret only on creation).</summary>
public sealed record CreatedWebhookEndpoint(WebhookEndpoint Endpoint, string Secret);

/// <summary>OEM webhook endpoints (OPCP webhooks.v1.json): register, list, change, delete.</summary>
public sealed class WebhookEndpoints(IWebhookStore store, ContractKeyProtector protector, TimeProvider clock)
{
    public async Task<CreatedWebhookEndpoint> CreateAsync(string ownerId, Uri url, IReadOnlyList<string>? enabledEvents, string? description, string actor, CancellationToken ct = default)
    {
        CheckUrl(url);
        var events = Events(enabledEvents);
        var id = Guid.NewGuid();
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var endpoint = new WebhookEndpoint
        {
            Id = id, OwnerId = ownerId, Url = url, EnabledEvents = events, Description = description, CreatedAt = clock.GetUtcNow(),
            WrappedSecret = protector.Protect(System.Text.Encoding.ASCII.GetBytes(secret), id, ownerId),
        };
        await store.AddEndpointAsync(endpoint, new AuditEvent(actor, "webhook.create", id.ToString(), new Dictionary<string, string> { ["owner"] = ownerId, ["url"] = url.ToString(), ["events"] = string.Join(",", events) }), ct);
        return new CreatedWebhookEndpoint(endpoint, secret);
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string ownerId, CancellationToken ct = default) => store.ListEndpointsAsync(ownerId, ct);

    public async Task<WebhookEndpoint> GetAsync(string? ownerId, Guid id, CancellationToken ct = default)
    {
        var e = await store.GetEndpointAsync(id, ct);
        if (e == null || (ownerId != null && e.OwnerId != ownerId)) throw new ContractException(ContractError.UnknownWebhookEndpoint, $"No webhook endpoint {id}.");
        return e;
    }

    /// <summary>
    /// Changes what is given (URL, events, description, enabled or disabled) and keeps the rest and the secret. A
    /// disabled endpoint receives no new events; deliveries already queued for it are still attempted.
    /// </summary>
    public async Task<WebhookEndpoint> UpdateAsync(string? ownerId, Guid id, Uri? url, IReadOnlyList<string>? enabledEvents, string? description,
        WebhookEndpointStatus? status, string actor, CancellationToken ct = default)
    {
        var current = await GetAsync(ownerId, id, ct);
        if (url != null) CheckUrl(url);
        var updated = current with
        {
            Url = url ?? current.Url,
            EnabledEvents = enabledEvents is { Count: > 0 } ? Events(enabledEvents) : current.EnabledEvents,
            Description = description ?? current.Description,
            Status = status ?? current.Status,
        };
        var audit = new AuditEvent(actor, "webhook.update", id.ToString(), new Dictionary<string, string>
        {
            ["owner"] = updated.OwnerId, ["url"] = updated.Url.ToString(), ["events"] = string.Join(",", updated.EnabledEvents), ["status"] = updated.Status.ToString(),
        });
        if (!await store.UpdateEndpointAsync(updated, audit, ct)) throw new ContractException(ContractError.UnknownWebhookEndpoint, $"No webhook endpoint {id}.");
        return updated;
    }

    private static void CheckUrl(Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            throw new ContractException(ContractError.Malformed, "A webhook URL is an absolute http(s) URL.");
    }

    private static List<string> Events(IReadOnlyList<string>? enabledEvents)
    {
        var events = enabledEvents is { Count: > 0 } ? enabledEvents.Distinct().ToList() : WebhookEvents.All.ToList();
        var unknown = events.Where(e => !WebhookEvents.All.Contains(e)).ToList();
        if (unknown.Count > 0) throw new ContractException(ContractError.Malformed, $"Unknown webhook events: {string.Join(", ", unknown)} (known: {string.Join(", ", WebhookEvents.All)}).");
        return events;
    }

    public async Task DeleteAsync(string? ownerId, Guid id, string actor, CancellationToken ct = default)
    {
        _ = await GetAsync(ownerId, id, ct);
        await store.DeleteEndpointAsync(id, new AuditEvent(actor, "webhook.delete", id.ToString()), ct);
    }

    public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(Guid endpointId, CancellationToken ct = default) => store.ListDeliveriesAsync(endpointId, ct);

    internal byte[] Secret(WebhookEndpoint e) => protector.Unprotect(e.WrappedSecret, e.Id, e.OwnerId);
}
