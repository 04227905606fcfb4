using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.OcpiAgreements;

/// <summary>
/// The roaming agreements the OCPI hub enforces (issue 24). Only the hub operator records and changes them (each change
/// audited by the store with the caller as actor); a CPO or eMSP participant reads the agreements of the OCPI parties
/// it is (its identities: country code + party ID, e.g. DEABC). A change names the row version it read in If-Match
/// (the ETag of the agreement), so two operators never overwrite each other.
/// </summary>
public static class OcpiAgreementEndpoints
{
    public sealed record PartyRef(string CountryCode, string PartyId);

    /// <param name="Scopes">tokens, locations, tariffs, sessions, cdrs, commands, real-time-authorization, plug-and-charge.</param>
    /// <param name="Status">active (default) or suspended.</param>
    public sealed record CreateAgreement(PartyRef? Cpo, PartyRef? Emsp, List<string>? Scopes, DateTimeOffset? ValidFrom, DateTimeOffset? ValidTo, string? Status);

    /// <summary>The whole agreement as it should be (its pair does not change); validFrom/validTo null: open-ended.</summary>
    public sealed record UpdateAgreement(List<string>? Scopes, DateTimeOffset? ValidFrom, DateTimeOffset? ValidTo, string? Status);

    /// <param name="RowVersion">The version a change names in If-Match (also the ETag).</param>
    public sealed record AgreementView(string Id, PartyRef Cpo, PartyRef Emsp, string Status, DateTimeOffset? ValidFrom, DateTimeOffset? ValidTo,
        List<string> Scopes, DateTimeOffset UpdatedAt, long RowVersion);

    public static IEndpointRouteBuilder MapOcpiAgreementEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/admin/ocpi/agreements").WithTags("OCPI roaming agreements").ProducesProblems(ApiConventions.ParticipantProblems);
        var read = ParticipantAuthentication.Policies.AnyParticipant;
        var write = ParticipantAuthentication.Policies.Admin;
        g.MapGet("/", ListAsync).RequireAuthorization(read)
            .WithSummary("Roaming agreements (?cpo=DE-ABC&emsp=NL-XYZ&status=active); a CPO or eMSP participant sees only its own");
        g.MapGet("/{id}", GetAsync).RequireAuthorization(read).WithSummary("One agreement (ETag: its row version)");
        g.MapPost("/", CreateAsync).RequireAuthorization(write).WithSummary("Record the agreement of a CPO and an eMSP (hub operator)");
        g.MapPut("/{id}", UpdateAsync).RequireAuthorization(write).ProducesProblems(412, 428)
            .WithSummary("Change an agreement's scopes, validity or status (If-Match: its ETag)");
        g.MapPost("/{id}/suspend", SuspendAsync).RequireAuthorization(write).ProducesProblems(412).WithSummary("Suspend an agreement (If-Match optional)");
        g.MapPost("/{id}/resume", ResumeAsync).RequireAuthorization(write).ProducesProblems(412).WithSummary("Make a suspended agreement active again");
        g.MapPost("/{id}/end", EndAsync).RequireAuthorization(write).ProducesProblems(412)
            .WithSummary("End an agreement for good (kept for the record; the pair may get a new one)");
        return app;
    }

    private static async Task<Results<Ok<List<AgreementView>>, ProblemHttpResult>> ListAsync(HttpContext http, RoamingAgreementAdministration admin,
        string? cpo, string? emsp, string? status, CancellationToken ct) => await Guarded(async () =>
    {
        var cpoFilter = cpo is null ? (RoamingParty?)null : AgreementText.Party(cpo);
        var emspFilter = emsp is null ? (RoamingParty?)null : AgreementText.Party(emsp);
        var statusFilter = status is null ? (AgreementStatus?)null : AgreementText.Status(status);
        return TypedResults.Ok((await admin.ListAsync(ct))
            .Where(a => Visible(http, a))
            .Where(a => cpoFilter is not { } c || a.Cpo == c)
            .Where(a => emspFilter is not { } e || a.Emsp == e)
            .Where(a => statusFilter is not { } s || a.Status == s)
            .Select(View).ToList());
    });

    private static async Task<Results<Ok<AgreementView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, RoamingAgreementAdministration admin, CancellationToken ct)
    {
        // Another party's agreement is as unknown to the caller as a missing one.
        if (await admin.GetAsync(id, ct) is not { } a || !Visible(http, a)) return NotFound(id);
        return Tagged(http, a);
    }

    private static Task<Results<Created<AgreementView>, ProblemHttpResult>> CreateAsync(CreateAgreement body, HttpContext http, RoamingAgreementAdministration admin,
        CancellationToken ct) => Guarded<Created<AgreementView>>(async () =>
    {
        var a = await admin.CreateAsync(new RoamingAgreementAdministration.NewAgreement(
            Party(body.Cpo, "cpo"), Party(body.Emsp, "emsp"), ScopesOf(body.Scopes) ?? [], body.ValidFrom, body.ValidTo,
            body.Status is null ? AgreementStatus.Active : AgreementText.Status(body.Status)), Scopes.Actor(http), ct);
        http.Response.Headers.ETag = ETag(a);
        return TypedResults.Created($"/admin/ocpi/agreements/{a.Id}", View(a));
    });

    private static Task<Results<Ok<AgreementView>, ProblemHttpResult>> UpdateAsync(string id, UpdateAgreement body, HttpContext http,
        RoamingAgreementAdministration admin, CancellationToken ct) => Guarded(async () =>
    {
        var expected = IfMatch(http) ?? throw new IfMatchRequiredException();
        var a = await admin.ChangeAsync(id, new RoamingAgreementAdministration.AgreementChange(expected,
            body.Status is null ? null : AgreementText.Status(body.Status), ScopesOf(body.Scopes), body.ValidFrom, body.ValidTo,
            ClearValidFrom: body.ValidFrom is null, ClearValidTo: body.ValidTo is null), Scopes.Actor(http), ct);
        return Tagged(http, a);
    });

    private static Task<Results<Ok<AgreementView>, ProblemHttpResult>> SuspendAsync(string id, HttpContext http, RoamingAgreementAdministration admin, CancellationToken ct) =>
        Guarded(async () => Tagged(http, await admin.SuspendAsync(id, IfMatch(http), Scopes.Actor(http), ct)));

    private static Task<Results<Ok<AgreementView>, ProblemHttpResult>> ResumeAsync(string id, HttpContext http, RoamingAgreementAdministration admin, CancellationToken ct) =>
        Guarded(async () => Tagged(http, await admin.ResumeAsync(id, IfMatch(http), Scopes.Actor(http), ct)));

    private static Task<Results<Ok<AgreementView>, ProblemHttpResult>> EndAsync(string id, HttpContext http, RoamingAgreementAdministration admin, CancellationToken ct) =>
        Guarded(async () => Tagged(http, await admin.EndAsync(id, IfMatch(http), Scopes.Actor(http), ct)));

    /// <summary>The hub operator sees every agreement; a CPO or eMSP participant those where it is that side (its identities).</summary>
    private static bool Visible(HttpContext http, RoamingAgreement a)
    {
        var me = Scopes.Me(http);
        return me.IsAdmin
            || (me.Role == ParticipantRole.Cpo && me.Owns(a.Cpo.CountryCode + a.Cpo.PartyId))
            || (me.Role == ParticipantRole.Emsp && me.Owns(a.Emsp.CountryCode + a.Emsp.PartyId));
    }

    private static RoamingParty Party(PartyRef? p, string field) =>
        p is null ? throw new ArgumentException($"{field} (countryCode, partyId) is required.") : new RoamingParty(p.CountryCode ?? "", p.PartyId ?? "");

    private static List<AgreementScope>? ScopesOf(List<string>? scopes) => scopes?.Select(AgreementText.Scope).ToList();

    private static AgreementView View(RoamingAgreement a) => new(a.Id, new PartyRef(a.Cpo.CountryCode, a.Cpo.PartyId), new PartyRef(a.Emsp.CountryCode, a.Emsp.PartyId),
        AgreementText.Of(a.Status), a.ValidFrom, a.ValidTo, a.Scopes.Order().Select(AgreementText.Of).ToList(), a.UpdatedAt, a.RowVersion);

    private static string ETag(RoamingAgreement a) => $"\"{a.RowVersion.ToString(CultureInfo.InvariantCulture)}\"";

    private static Ok<AgreementView> Tagged(HttpContext http, RoamingAgreement a)
    {
        http.Response.Headers.ETag = ETag(a);
        return TypedResults.Ok(View(a));
    }

    /// <summary>The row version If-Match names ("3", W/"3" or 3); null without the header. A malformed one is a 400.</summary>
    private static long? IfMatch(HttpContext http)
    {
        var raw = http.Request.Headers.IfMatch.ToString().Trim();
        if (raw.Length == 0) return null;
        var v = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
        return long.TryParse(v.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new ArgumentException($"If-Match '{raw}' is not an agreement's ETag.");
    }

    private static ProblemHttpResult NotFound(string id) => Problem(404, "Unknown agreement", $"No roaming agreement '{id}'.");

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);

    private static async Task<Results<TResult, ProblemHttpResult>> Guarded<TResult>(Func<Task<TResult>> action) where TResult : IResult
    {
        try { return await action(); }
        catch (ArgumentException e) { return Problem(400, "Invalid request", e.Message); }
        catch (KeyNotFoundException e) { return Problem(404, "Unknown agreement", e.Message); }
        catch (OcpiConflictException e) { return Problem(409, "Conflict", e.Message); }
        catch (OcpiConcurrencyException e) { return Problem(412, "Changed meanwhile", e.Message); }
        catch (IfMatchRequiredException) { return Problem(428, "If-Match required", "Name the agreement's ETag (its row version) in If-Match: GET it first."); }
    }

    private sealed class IfMatchRequiredException : Exception;
}
