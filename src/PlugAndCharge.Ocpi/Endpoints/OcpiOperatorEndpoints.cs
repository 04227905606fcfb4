using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
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
        g.MapGet("/parties", ListAsync).WithSummary("The OCPI parties of the hub");
        g.MapGet("/parties/{id}", GetAsync).ProducesProblem(404).WithSummary("One party");
        g.MapPost("/parties", CreateAsync).ProducesProblem(400).ProducesProblem(409)
            .WithSummary("Register a party; its token A (for the credentials handshake) is in this response only");
        g.MapPost("/parties/{id}/token-a", IssueTokenAAsync).ProducesEditProblems().WithSummary("A new token A for the party's (re-)registration");
        g.MapPost("/parties/{id}/revoke-credentials", RevokeCredentialsAsync).ProducesEditProblems()
            .WithSummary("Revoke the party's credentials tokens; it registers again with the new token A returned");
        g.MapPut("/parties/{id}/provider-prefixes", SetProviderPrefixesAsync).ProducesEditProblems()
            .WithSummary("The provider prefixes (country + provider ID) the party answers for");
        g.MapPost("/parties/{id}/suspend", SuspendAsync).ProducesEditProblems().WithSummary("Suspend the party: the hub neither takes nor sends its traffic");
        g.MapPost("/liveness-check", CheckLivenessAsync).WithSummary("Check every party's versions endpoint now; the parties with their updated status");
        return g;
    }

    private static RouteHandlerBuilder ProducesEditProblems(this RouteHandlerBuilder route) =>
        route.ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);

    private static async Task<Ok<List<PartyView>>> ListAsync(PartyAdministration admin, CancellationToken ct) =>
        TypedResults.Ok((await admin.ListAsync(ct)).Select(View).ToList());

    private static async Task<Results<Ok<PartyView>, ProblemHttpResult>> GetAsync(string id, PartyAdministration admin, CancellationToken ct) =>
        await admin.GetAsync(id, ct) is { } p ? TypedResults.Ok(View(p)) : NotFound(id);

    private static Task<Results<Created<CreatedParty>, ProblemHttpResult>> CreateAsync(CreatePartyInput input, PartyAdministration admin, CancellationToken ct) =>
        Guarded<Created<CreatedParty>>(async () =>
        {
            var (party, tokenA) = await admin.CreateAsync(new PartyAdministration.NewParty(input.Name,
                (input.Roles ?? []).Select(r => new PartyRole(r.Role ?? "", r.CountryCode ?? "", r.PartyId ?? "", r.BusinessName)).ToList(),
                input.ProviderPrefixes, input.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null), ct);
            return TypedResults.Created($"/admin/ocpi/parties/{party.Id}", new CreatedParty(View(party), tokenA));
        });

    private static Task<Results<Ok<TokenAView>, ProblemHttpResult>> IssueTokenAAsync(string id, PartyAdministration admin, CancellationToken ct) =>
        Guarded(async () => TypedResults.Ok(new TokenAView(await admin.IssueTokenAAsync(id, ct))));

    private static Task<Results<Ok<TokenAView>, ProblemHttpResult>> RevokeCredentialsAsync(string id, PartyAdministration admin, CancellationToken ct) =>
        Guarded(async () => TypedResults.Ok(new TokenAView(await admin.RevokeCredentialsAsync(id, ct))));

    private static Task<Results<Ok<PartyView>, ProblemHttpResult>> SetProviderPrefixesAsync(string id, ProviderPrefixesInput input, PartyAdministration admin,
        CancellationToken ct) =>
        Guarded(async () => TypedResults.Ok(View(await admin.SetProviderPrefixesAsync(id, input.ProviderPrefixes ?? [], ct))));

    private static Task<Results<Ok<PartyView>, ProblemHttpResult>> SuspendAsync(string id, PartyAdministration admin, CancellationToken ct) =>
        Guarded(async () => TypedResults.Ok(View(await admin.SuspendAsync(id, ct))));

    private static async Task<Ok<List<PartyView>>> CheckLivenessAsync(PartyLivenessMonitor monitor, PartyAdministration admin, CancellationToken ct)
    {
        await monitor.CheckAllAsync(ct);
        return TypedResults.Ok((await admin.ListAsync(ct)).Select(View).ToList());
    }

    private static PartyView View(PartyRecord p) => new(p.Id, p.Name, ClientInfoPublisher.StatusText(p.Status), p.IsRegistered, p.Version, p.Roles,
        p.ProviderPrefixes, p.Endpoints.Select(e => new EndpointView(e.Identifier, e.Role)).ToList(), p.UpdatedAt, p.LastSeenAt);

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(statusCode: 404, title: "Unknown party", detail: $"No party '{id}'.");

    /// <summary>The administration's refusals as problem details.</summary>
    private static async Task<Results<TResult, ProblemHttpResult>> Guarded<TResult>(Func<Task<TResult>> action) where TResult : IResult
    {
        try { return await action(); }
        catch (ArgumentException e) { return TypedResults.Problem(statusCode: 400, title: "Invalid request", detail: e.Message); }
        catch (KeyNotFoundException e) { return TypedResults.Problem(statusCode: 404, title: "Unknown party", detail: e.Message); }
        catch (OcpiConflictException e) { return TypedResults.Problem(statusCode: 409, title: "Conflict", detail: e.Message); }
        catch (OcpiConcurrencyException e) { return TypedResults.Problem(statusCode: 409, title: "Changed concurrently, try again", detail: e.Message); }
    }
}
