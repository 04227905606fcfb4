using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// OEM webhook endpoints in the shape of OPCP's webhooks.v1: an OEM registers receivers for the contract events of its
/// vehicles (created, updated, deleted); each POST is signed with HMAC-SHA256 under the endpoint's secret, which is shown
/// once, at creation. The hub operator acts for an OEM by naming it (?ownerId=) when creating or listing.
/// </summary>
public static class WebhookApiEndpoints
{
    /// <summary>OPCP <c>EndpointRequest</c> (apiVersion and metadata are not kept).</summary>
    public sealed record EndpointRequest(string? Url, IReadOnlyList<string>? EnabledEvents, string? Description, string? Status);

    public static IEndpointRouteBuilder MapWebhookApiEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhook/endpoints").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("Webhooks");

        group.MapPost("/", async (EndpointRequest body, string? ownerId, ContractServices contracts, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(body.Url) || !Uri.TryCreate(body.Url, UriKind.Absolute, out var url)) return Problems.BadRequest("url must be an absolute http(s) URL.");
            if (body.EnabledEvents is not { Count: > 0 }) return Problems.BadRequest($"enabledEvents is required (events sent here: {string.Join(", ", WebhookEvents.All)}).");
            if (body.Status != null && !body.Status.Equals("enabled", StringComparison.OrdinalIgnoreCase))
                return Problems.NotImplemented("Endpoints are created enabled; disable one afterwards with PUT {\"status\": \"disabled\"}.");
            var owner = Owner(http, ownerId);
            if (owner == null) return Problems.BadRequest("The hub operator names the OEM the endpoint is for (?ownerId=).");
            var created = await contracts.Webhooks.CreateAsync(owner, url, body.EnabledEvents, body.Description, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Created($"/v1/webhook/endpoints/{created.Endpoint.Id}", View(created.Endpoint, http, created.Secret));
        }).WithSummary("Register a webhook endpoint (the HMAC-SHA256 secret is in this response only)");

        group.MapGet("/", async (string? ownerId, ContractServices contracts, HttpContext http) =>
        {
            var owner = Owner(http, ownerId);
            if (owner == null) return Problems.BadRequest("The hub operator names the OEM whose endpoints to list (?ownerId=).");
            return Results.Ok((await contracts.Webhooks.ListAsync(owner, http.RequestAborted)).Select(e => View(e, http, null)));
        }).WithSummary("Your webhook endpoints");

        group.MapGet("/{id}", async (string id, ContractServices contracts, HttpContext http) =>
        {
            if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
            return Results.Ok(View(await contracts.Webhooks.GetAsync(Scope(http), guid, http.RequestAborted), http, null));
        }).WithSummary("One webhook endpoint (never its secret)");

        group.MapPut("/{id}", async (string id, EndpointRequest body, ContractServices contracts, HttpContext http) =>
        {
            if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
            Uri? url = null;
            if (body.Url != null && !Uri.TryCreate(body.Url, UriKind.Absolute, out url)) return Problems.BadRequest("url must be an absolute http(s) URL.");
            WebhookEndpointStatus? status = null;
            if (body.Status != null)
            {
                if (!Enum.TryParse<WebhookEndpointStatus>(body.Status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                    return Problems.BadRequest("status is enabled or disabled.");
                status = parsed;
            }
            var updated = await contracts.Webhooks.UpdateAsync(Scope(http), guid, url, body.EnabledEvents, body.Description, status,
                ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(View(updated, http, null));
        }).WithSummary("Change a webhook endpoint's URL, events, description or status (its secret stays)");

        group.MapDelete("/{id}", async (string id, ContractServices contracts, HttpContext http) =>
        {
            if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
            await contracts.Webhooks.DeleteAsync(Scope(http), guid, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok();
        }).WithSummary("Delete a webhook endpoint (pending deliveries to it are dropped)");

        group.MapGet("/{id}/deliveries", async (string id, ContractServices contracts, HttpContext http) =>
        {
            if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
            var endpoint = await contracts.Webhooks.GetAsync(Scope(http), guid, http.RequestAborted);
            var deliveries = await contracts.Webhooks.DeliveriesAsync(endpoint.Id, http.RequestAborted);
            return Results.Ok(deliveries.Select(d => new
            {
                id = d.Id, eventId = d.EventId, eventType = d.EventType, state = d.State.ToString(), attempts = d.Attempts,
                nextAttemptAt = d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : (DateTimeOffset?)null,
                lastStatusCode = d.LastStatusCode, lastError = d.LastError, deliveredAt = d.DeliveredAt, payload = d.Payload,
            }));
        }).WithSummary("Deliveries to the endpoint: state, attempts, last answer (not in OPCP)");
        return app;
    }

    /// <summary>Whose endpoints: the OEM's own; the hub operator's choice (null when it named none).</summary>
    private static string? Owner(HttpContext http, string? ownerId)
    {
        var me = Scopes.Me(http);
        return me.IsAdmin ? (string.IsNullOrWhiteSpace(ownerId) ? null : ownerId) : me.Id;
    }

    /// <summary>Scope of a call about one endpoint: the OEM sees only its own (others answer 404); the operator sees all.</summary>
    private static string? Scope(HttpContext http) => Scopes.Me(http) is { IsAdmin: false } me ? me.Id : null;

    /// <summary>OPCP <c>EndpointResponse</c>; <paramref name="secret"/> only at creation.</summary>
    private static Dictionary<string, object?> View(WebhookEndpoint e, HttpContext http, string? secret)
    {
        var me = Scopes.Me(http);
        var view = new Dictionary<string, object?>
        {
            ["id"] = e.Id.ToString(), ["created"] = e.CreatedAt.ToUnixTimeSeconds(), ["description"] = e.Description, ["enabledEvents"] = e.EnabledEvents,
            ["status"] = e.Status.ToString().ToLowerInvariant(), ["url"] = e.Url.ToString(), ["userRole"] = "OEM", ["userName"] = e.OwnerId,
        };
        if (!me.IsAdmin) view["wmis"] = me.Identities;
        if (secret != null) view["secret"] = secret;
        return view;
    }
}
