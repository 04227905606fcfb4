using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.ContractManagement;

/// <summary>
/// Contracts of eMSPs (our own API, not OPCP): bind an EMAID, given or minted under the eMSP's provider ID, to a vehicle
/// of the pool; issue or renew its contract certificate from our MO Sub-CA; make it the vehicle's default; terminate
/// it (certificate revoked, keys and signed data purged). An eMSP sees and changes only its own contracts.
/// </summary>
public static class ContractManagementEndpoints
{
    /// <summary>Without emaid, one is minted under providerId (default: the eMSP's first provider ID).</summary>
    public sealed record CreateContract(string? Pcid, string? Emaid, string? ProviderId, bool? Default, bool? IssueCertificate);

    /// <summary>A contract as our API shows it.</summary>
    /// <param name="State">Active or Terminated.</param>
    /// <param name="Origin">Who made the contract certificate: our MO Sub-CA or the eMSP's own MO CA.</param>
    public sealed record ContractView(string Emaid, string Pcid, string State, bool IsDefault, string EmspId, string Origin, string XsdMsgDefNamespace,
        DateTimeOffset CreatedAt, DateTimeOffset? TerminatedAt, string? TerminationReason, ContractCertificateView? Certificate);

    /// <param name="Status">Valid, Expired, Revoked or NotYetValid, from the CA's records.</param>
    public sealed record ContractCertificateView(string Serial, string? IssuerId, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Status, string Pem);

    public sealed record ContractList(IReadOnlyList<ContractView> Contracts);

    public static IEndpointRouteBuilder MapContractManagementEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/contracts").RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("Contracts")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        group.MapPost("/", CreateAsync).WithSummary("Create a contract for a vehicle of the pool (EMAID given or minted), with its contract certificate");
        group.MapGet("/", ListAsync).WithSummary("Your contracts of a vehicle, terminated ones included");
        group.MapGet("/{emaid}", GetAsync).WithSummary("A contract (the active one, else the latest)");
        group.MapPost("/{emaid}/certificate", IssueCertificateAsync)
            .WithSummary("Issue or renew the contract certificate from our MO Sub-CA (the previous one stays valid until it expires)");
        group.MapPost("/{emaid}/default", SetDefaultAsync).WithSummary("Make the contract its vehicle's default (the one an installation delivers)");
        group.MapDelete("/{emaid}", TerminateAsync).WithSummary("Terminate the contract: its certificate is revoked, keys and signed data purged, the OEM notified");
        return app;
    }

    private static async Task<Results<Created<ContractView>, ProblemHttpResult>> CreateAsync(CreateContract body, ContractOptions options,
        [FromServices] ContractRegistry contracts, IParticipantStore participants, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(body.Pcid)) return Problems.BadRequest("pcid is required.");
        var emaid = body.Emaid != null ? Scopes.ParseEmaid(options, body.Emaid) : null;
        var owner = await Scopes.EmspOwnerAsync(http, participants, emaid?.ProviderPrefix ?? body.ProviderId);
        var contract = await contracts.BindAsync(owner, new ContractBinding
        {
            Pcid = body.Pcid, Emaid = body.Emaid, ProviderPrefix = body.ProviderId, MakeDefault = body.Default ?? false,
            IssueCertificate = body.IssueCertificate ?? true,
        }, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Created($"/v1/contracts/{contract.Emaid}", await ViewAsync(contract, contracts, http.RequestAborted));
    }

    private static async Task<Results<Ok<ContractList>, ProblemHttpResult>> ListAsync(string? pcid, [FromServices] ContractRegistry contracts,
        HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(pcid)) return Problems.BadRequest("pcid is required (GET /v1/contracts?pcid=...).");
        var me = Scopes.Me(http);
        var all = await contracts.ListForVehicleAsync(Scopes.ParsePcid(pcid).Value, http.RequestAborted);
        var views = new List<ContractView>();
        foreach (var c in all.Where(c => me.IsAdmin || c.EmspId == me.Id)) views.Add(await ViewAsync(c, contracts, http.RequestAborted));
        return TypedResults.Ok(new ContractList(views));
    }

    private static async Task<Results<Ok<ContractView>, ProblemHttpResult>> GetAsync(string emaid, ContractOptions options, [FromServices] ContractRegistry contracts,
        HttpContext http)
    {
        var parsed = Scopes.ParseEmaid(options, emaid);
        var owner = Scopes.EmspScope(http, parsed);
        var found = await contracts.FindAsync(parsed.Normalized, http.RequestAborted);
        if (found.Count == 0) return Problems.NotFound($"No contract {parsed.Normalized}.");
        if (owner != null && found[0].EmspId != owner.EmspId) return Problems.Forbidden($"Contract {parsed.Normalized} belongs to another eMSP.");
        return TypedResults.Ok(await ViewAsync(found[0], contracts, http.RequestAborted));
    }

    private static async Task<Ok<ContractView>> IssueCertificateAsync(string emaid, ContractOptions options, [FromServices] ContractRegistry contracts,
        HttpContext http)
    {
        var parsed = Scopes.ParseEmaid(options, emaid);
        var updated = await contracts.IssueCertificateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(updated, contracts, http.RequestAborted));
    }

    private static async Task<Ok<ContractView>> SetDefaultAsync(string emaid, ContractOptions options, [FromServices] ContractRegistry contracts,
        HttpContext http)
    {
        var parsed = Scopes.ParseEmaid(options, emaid);
        var owner = Scopes.EmspScope(http, parsed);
        var contract = await contracts.GetActiveAsync(owner, parsed.Normalized, http.RequestAborted);
        var updated = await contracts.SetDefaultAsync(owner, contract.Pcid, contract.Emaid, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(updated, contracts, http.RequestAborted));
    }

    private static async Task<Results<Ok<ContractView>, ProblemHttpResult>> TerminateAsync(string emaid, string? reason, ContractOptions options,
        [FromServices] ContractRegistry contracts, HttpContext http)
    {
        if (reason is { Length: > 200 }) return Problems.BadRequest("reason is at most 200 characters.");
        var parsed = Scopes.ParseEmaid(options, emaid);
        var ended = await contracts.TerminateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized,
            string.IsNullOrWhiteSpace(reason) ? "terminated by the eMSP" : reason, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(ended, contracts, http.RequestAborted));
    }

    /// <summary>A contract as our API shows it; the certificate's status comes from the CA's records (Revoked after termination).</summary>
    private static async Task<ContractView> ViewAsync(Contract c, ContractRegistry contracts, CancellationToken ct)
    {
        ContractCertificateView? certificate = null;
        if (c.Certificate is { } cert)
        {
            var status = await contracts.CertificateStatus.OfAsync(cert, ct);
            certificate = new ContractCertificateView(cert.Serial, cert.IssuerId, cert.NotBefore, cert.NotAfter, status.ToString(),
                PemEncoding.WriteString("CERTIFICATE", cert.Der));
        }
        return new ContractView(c.Emaid, c.Pcid, c.State.ToString(), c.IsDefault, c.EmspId, c.Origin.ToString(), c.Standard.Namespace(), c.CreatedAt,
            c.TerminatedAt, c.TerminationReason, certificate);
    }
}
