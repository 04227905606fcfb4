using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.Webhooks;

/// <summary>
/// OEM webhook endpoints in the shape of OPCP's webhooks.v1: an OEM registers receivers for the contract events of its
/// vehicles (created, updated, deleted); each POST is signed with HMAC-SHA256 under the endpoint's secret, which is shown
/// once, at creation. The hub operator acts for an OEM by naming it (?ownerId=) when creating or listing.
/// </summary>
public static class WebhookApiEndpoints
{
    /// <summary>OPCP <c>EndpointRequest</c> (apiVersion and metadata are not kept).</summary>
    public sealed record EndpointRequest(string? Url, IReadOnlyList<string>? EnabledEvents, string? Description, string? Status);

    /// <summary>OPCP <c>EndpointResponse</c>: <c>created</c> in Unix seconds; <c>wmis</c> for an OEM caller; <c>secret</c> only at creation.</summary>
    public sealed record EndpointResponse(string Id, long Created, string? Description, IReadOnlyList<string> EnabledEvents, string Status, string Url,
        string UserRole, string UserName,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Wmis = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null);

    /// <param name="State">Pending, Delivered or Failed.</param>
    /// <param name="NextAttemptAt">While pending.</param>
    /// <param name="Payload">The signed JSON body, as sent.</param>
    public sealed record DeliveryView(Guid Id, Guid EventId, string EventType, string State, int Attempts, DateTimeOffset? NextAttemptAt, int? LastStatusCode,
        string? LastError, DateTimeOffset? DeliveredAt, string Payload);

    public static IEndpointRouteBuilder MapWebhookApiEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhook/endpoints").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("Webhooks")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        group.MapPost("/", CreateAsync).ProducesProblems(501).WithSummary("Register a webhook endpoint (the HMAC-SHA256 secret is in this response only)");
        group.MapGet("/", ListAsync).WithSummary("Your webhook endpoints");
        group.MapGet("/{id}", GetAsync).WithSummary("One webhook endpoint (never its secret)");
        group.MapPut("/{id}", UpdateAsync).WithSummary("Change a webhook endpoint's URL, events, description or status (its secret stays)");
        group.MapDelete("/{id}", DeleteAsync).WithSummary("Delete a webhook endpoint (pending deliveries to it are dropped)");
        group.MapGet("/{id}/deliveries", DeliveriesAsync).WithSummary("Deliveries to the endpoint: state, attempts, last answer (not in OPCP)");
        return app;
    }

    private static async Task<Results<Created<EndpointResponse>, ProblemHttpResult>> CreateAsync(EndpointRequest body, string? ownerId, WebhookEndpoints webhooks,
        HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(body.Url) || !Uri.TryCreate(body.Url, UriKind.Absolute, out var url)) return Problems.BadRequest("url must be an absolute http(s) URL.");
        if (body.EnabledEvents is not { Count: > 0 }) return Problems.BadRequest($"enabledEvents is required (events sent here: {string.Join(", ", WebhookEvents.All)}).");
        if (body.Status != null && !body.Status.Equals("enabled", StringComparison.OrdinalIgnoreCase))
            return Problems.NotImplemented("Endpoints are created enabled; disable one afterwards with PUT {\"status\": \"disabled\"}.");
        var owner = Owner(http, ownerId);
        if (owner == null) return Problems.BadRequest("The hub operator names the OEM the endpoint is for (?ownerId=).");
        var created = await webhooks.CreateAsync(owner, url, body.EnabledEvents, body.Description, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Created($"/v1/webhook/endpoints/{created.Endpoint.Id}", View(created.Endpoint, http, created.Secret));
    }

    private static async Task<Results<Ok<List<EndpointResponse>>, ProblemHttpResult>> ListAsync(string? ownerId, WebhookEndpoints webhooks, HttpContext http)
    {
        var owner = Owner(http, ownerId);
        if (owner == null) return Problems.BadRequest("The hub operator names the OEM whose endpoints to list (?ownerId=).");
        return TypedResults.Ok((await webhooks.ListAsync(owner, http.RequestAborted)).Select(e => View(e, http, null)).ToList());
    }

    private static async Task<Results<Ok<EndpointResponse>, ProblemHttpResult>> GetAsync(string id, WebhookEndpoints webhooks, HttpContext http)
    {
        if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
        return TypedResults.Ok(View(await webhooks.GetAsync(Scope(http), guid, http.RequestAborted), http, null));
    }

    private static async Task<Results<Ok<EndpointResponse>, ProblemHttpResult>> UpdateAsync(string id, EndpointRequest body, WebhookEndpoints webhooks,
        HttpContext http)
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
        var updated = await webhooks.UpdateAsync(Scope(http), guid, url, body.EnabledEvents, body.Description, status, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(View(updated, http, null));
    }

    private static async Task<Results<Ok, ProblemHttpResult>> DeleteAsync(string id, WebhookEndpoints webhooks, HttpContext http)
    {
        if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
        await webhooks.DeleteAsync(Scope(http), guid, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok();
    }

    private static async Task<Results<Ok<List<DeliveryView>>, ProblemHttpResult>> DeliveriesAsync(string id, WebhookEndpoints webhooks, HttpContext http)
    {
        if (!Guid.TryParse(id, out var guid)) return Problems.BadRequest("id is not a UUID.");
        var endpoint = await webhooks.GetAsync(Scope(http), guid, http.RequestAborted);
        var deliveries = await webhooks.DeliveriesAsync(endpoint.Id, http.RequestAborted);
        return TypedResults.Ok(deliveries.Select(d => new DeliveryView(d.Id, d.EventId, d.EventType, d.State.ToString(), d.Attempts,
            d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null, d.LastStatusCode, d.LastError, d.DeliveredAt, d.Payload)).ToList());
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
    private static EndpointResponse View(WebhookEndpoint e, HttpContext http, string? secret)
    {
        var me = Scopes.Me(http);
        return new EndpointResponse(e.Id.ToString(), e.CreatedAt.ToUnixTimeSeconds(), e.Description, e.EnabledEvents, e.Status.ToString().ToLowerInvariant(),
            e.Url.ToString(), "OEM", e.OwnerId, me.IsAdmin ? null : me.Identities, secret);
    }
}
