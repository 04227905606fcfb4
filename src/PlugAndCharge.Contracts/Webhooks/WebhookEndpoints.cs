using System.Security.Cryptography;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>A created endpoint and its HMAC secret, shown once (OPCP returns the secret only on creation).</summary>
public sealed record CreatedWebhookEndpoint(WebhookEndpoint Endpoint, string Secret);

/// <summary>OEM webhook endpoints (OPCP webhooks.v1.json): register, list, delete.</summary>
public sealed class WebhookEndpoints(IWebhookStore store, ContractKeyProtector protector, TimeProvider clock)
{
    public async Task<CreatedWebhookEndpoint> CreateAsync(string ownerId, Uri url, IReadOnlyList<string>? enabledEvents, string? description, string actor, CancellationToken ct = default)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            throw new ContractException(ContractError.Malformed, "A webhook URL is an absolute http(s) URL.");
        var events = enabledEvents is { Count: > 0 } ? enabledEvents.Distinct().ToList() : WebhookEvents.All.ToList();
        var unknown = events.Where(e => !WebhookEvents.All.Contains(e)).ToList();
        if (unknown.Count > 0) throw new ContractException(ContractError.Malformed, $"Unknown webhook events: {string.Join(", ", unknown)} (known: {string.Join(", ", WebhookEvents.All)}).");
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

    public async Task DeleteAsync(string? ownerId, Guid id, string actor, CancellationToken ct = default)
    {
        _ = await GetAsync(ownerId, id, ct);
        await store.DeleteEndpointAsync(id, new AuditEvent(actor, "webhook.delete", id.ToString()), ct);
    }

    public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(Guid endpointId, CancellationToken ct = default) => store.ListDeliveriesAsync(endpointId, ct);

    internal byte[] Secret(WebhookEndpoint e) => protector.Unprotect(e.WrappedSecret, e.Id, e.OwnerId);
}
