using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.Ocpi.Endpoints;

/// <summary>
/// The hub operator's REST surface under /admin/ocpi (errors as ProblemDetails). It hands out token A, so the host
/// must put it behind administrator authentication: <c>app.MapOcpiOperatorEndpoints().RequireAuthorization(policy)</c>.
/// </summary>
public static class OcpiOperatorEndpoints
{
    public sealed record RoleInput(string Role, string CountryCode, string PartyId, string? BusinessName = null);
    public sealed record CreatePartyInput(string Name, List<RoleInput> Roles, List<string>? ProviderPrefixes = null, int? TimeoutMs = null);
    public sealed record ProviderPrefixesInput(List<string> ProviderPrefixes);
    public sealed record EndpointView(string Identifier, string Role);
    public sealed record PartyView(string Id, string Name, string Status, bool Registered, string? Version, IReadOnlyList<PartyRole> Roles,
        IReadOnlyList<string> ProviderPrefixes, IReadOnlyList<EndpointView> Endpoints, DateTimeOffset UpdatedAt, DateTimeOffset? LastSeenAt);
    public sealed record CreatedParty(PartyView Party, string TokenA);
    public sealed record TokenAView(string TokenA);

    /// <summary>Maps the operator endpoints and returns their group so the host can require its administrator policy.</summary>
    public static RouteGroupBuilder MapOcpiOperatorEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/admin/ocpi");
        g.MapGet("/parties", async (PartyAdministration admin, CancellationToken ct) => (await admin.ListAsync(ct)).Select(View).ToList());
        g.MapGet("/parties/{id}", async (string id, PartyAdministration admin, CancellationToken ct) =>
            await admin.GetAsync(id, ct) is { } p ? Results.Ok(View(p)) : NotFound(id));
        g.MapPost("/parties", (CreatePartyInput input, PartyAdministration admin, CancellationToken ct) => Guarded(async () =>
        {
            var (party, tokenA) = await admin.CreateAsync(new PartyAdministration.NewParty(input.Name,
                (input.Roles ?? []).Select(r => new PartyRole(r.Role ?? "", r.CountryCode ?? "", r.PartyId ?? "", r.BusinessName)).ToList(),
                input.ProviderPrefixes, input.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null), ct);
            return Results.Created($"/admin/ocpi/parties/{party.Id}", new CreatedParty(View(party), tokenA));
        }));
        g.MapPost("/parties/{id}/token-a", (string id, PartyAdministration admin, CancellationToken ct) =>
            Guarded(async () => Results.Ok(new TokenAView(await admin.IssueTokenAAsync(id, ct)))));
        g.MapPost("/parties/{id}/revoke-credentials", (string id, PartyAdministration admin, CancellationToken ct) =>
            Guarded(async () => Results.Ok(new TokenAView(await admin.RevokeCredentialsAsync(id, ct)))));
        g.MapPut("/parties/{id}/provider-prefixes", (string id, ProviderPrefixesInput input, PartyAdministration admin, CancellationToken ct) =>
            Guarded(async () => Results.Ok(View(await admin.SetProviderPrefixesAsync(id, input.ProviderPrefixes ?? [], ct)))));
        g.MapPost("/parties/{id}/suspend", (string id, PartyAdministration admin, CancellationToken ct) =>
            Guarded(async () => Results.Ok(View(await admin.SuspendAsync(id, ct)))));
        g.MapPost("/liveness-check", async (PartyLivenessMonitor monitor, PartyAdministration admin, CancellationToken ct) =>
        {
            await monitor.CheckAllAsync(ct);
            return (await admin.ListAsync(ct)).Select(View).ToList();
        });
        return g;
    }

    private static PartyView View(PartyRecord p) => new(p.Id, p.Name, ClientInfoPublisher.StatusText(p.Status), p.IsRegistered, p.Version, p.Roles,
        p.ProviderPrefixes, p.Endpoints.Select(e => new EndpointView(e.Identifier, e.Role)).ToList(), p.UpdatedAt, p.LastSeenAt);

    private static IResult NotFound(string id) => Results.Problem(statusCode: 404, title: "Unknown party", detail: $"No party '{id}'.");

    private static async Task<IResult> Guarded(Func<Task<IResult>> action)
    {
        try { return await action(); }
        catch (ArgumentException e) { return Results.Problem(statusCode: 400, title: "Invalid request", detail: e.Message); }
        catch (KeyNotFoundException e) { return Results.Problem(statusCode: 404, title: "Unknown party", detail: e.Message); }
        catch (OcpiConflictException e) { return Results.Problem(statusCode: 409, title: "Conflict", detail: e.Message); }
        catch (OcpiConcurrencyException e) { return Results.Problem(statusCode: 409, title: "Changed concurrently, try again", detail: e.Message); }
    }
}
