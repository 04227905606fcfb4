using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// Contracts of eMSPs (our own API, not OPCP): bind an EMAID, given or minted under the eMSP's provider ID, to a vehicle
/// of the pool; issue or renew its contract certificate from our MO Sub-CA; make it the vehicle's default; terminate
/// it (certificate revoked, keys and signed data purged). An eMSP sees and changes only its own contracts.
/// </summary>
public static class ContractManagementEndpoints
{
    /// <summary>Without emaid, one is minted under providerId (default: the eMSP's first provider ID).</summary>
    public sealed record CreateContract(string? Pcid, string? Emaid, string? ProviderId, bool? Default, bool? IssueCertificate);

    public static IEndpointRouteBuilder MapContractManagementEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/contracts").RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("Contracts");

        group.MapPost("/", async (CreateContract body, ContractServices contracts, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(body.Pcid)) return Problems.BadRequest("pcid is required.");
            var emaid = body.Emaid != null ? Scopes.ParseEmaid(contracts, body.Emaid) : null;
            var owner = await Scopes.EmspOwnerAsync(http, emaid?.ProviderPrefix ?? body.ProviderId);
            var contract = await contracts.Contracts.BindAsync(owner, new ContractBinding
            {
                Pcid = body.Pcid, Emaid = body.Emaid, ProviderPrefix = body.ProviderId, MakeDefault = body.Default ?? false,
                IssueCertificate = body.IssueCertificate ?? true,
            }, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Created($"/v1/contracts/{contract.Emaid}", await ViewAsync(contract, contracts, http));
        }).WithSummary("Create a contract for a vehicle of the pool (EMAID given or minted), with its contract certificate");

        group.MapGet("/", async (string? pcid, ContractServices contracts, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(pcid)) return Problems.BadRequest("pcid is required (GET /v1/contracts?pcid=...).");
            var me = Scopes.Me(http);
            var all = await contracts.Contracts.ListForVehicleAsync(Scopes.ParsePcid(pcid).Value, http.RequestAborted);
            var views = new List<object>();
            foreach (var c in all.Where(c => me.IsAdmin || c.EmspId == me.Id)) views.Add(await ViewAsync(c, contracts, http));
            return Results.Ok(new { contracts = views });
        }).WithSummary("Your contracts of a vehicle, terminated ones included");

        group.MapGet("/{emaid}", async (string emaid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            var owner = Scopes.EmspScope(http, parsed);
            var found = await contracts.Contracts.FindAsync(parsed.Normalized, http.RequestAborted);
            if (found.Count == 0) return Problems.NotFound($"No contract {parsed.Normalized}.");
            if (owner != null && found[0].EmspId != owner.EmspId) return Problems.Forbidden($"Contract {parsed.Normalized} belongs to another eMSP.");
            return Results.Ok(await ViewAsync(found[0], contracts, http));
        }).WithSummary("A contract (the active one, else the latest)");

        group.MapPost("/{emaid}/certificate", async (string emaid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            var updated = await contracts.Contracts.IssueCertificateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(await ViewAsync(updated, contracts, http));
        }).WithSummary("Issue or renew the contract certificate from our MO Sub-CA (the previous one stays valid until it expires)");

        group.MapPost("/{emaid}/default", async (string emaid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            var owner = Scopes.EmspScope(http, parsed);
            var contract = await contracts.Contracts.GetActiveAsync(owner, parsed.Normalized, http.RequestAborted);
            var updated = await contracts.Contracts.SetDefaultAsync(owner, contract.Pcid, contract.Emaid, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(await ViewAsync(updated, contracts, http));
        }).WithSummary("Make the contract its vehicle's default (the one an installation delivers)");

        group.MapDelete("/{emaid}", async (string emaid, string? reason, ContractServices contracts, HttpContext http) =>
        {
            if (reason is { Length: > 200 }) return Problems.BadRequest("reason is at most 200 characters.");
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            var ended = await contracts.Contracts.TerminateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized,
                string.IsNullOrWhiteSpace(reason) ? "terminated by the eMSP" : reason, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(await ViewAsync(ended, contracts, http));
        }).WithSummary("Terminate the contract: its certificate is revoked, keys and signed data purged, the OEM notified");
        return app;
    }

    /// <summary>A contract as our API shows it; the certificate's status comes from the CA's records (Revoked after termination).</summary>
    internal static async Task<object> ViewAsync(Contract c, ContractServices contracts, HttpContext http)
    {
        object? certificate = null;
        if (c.Certificate is { } cert)
        {
            var status = await contracts.Contracts.CertificateStatus.OfAsync(cert, http.RequestAborted);
            certificate = new
            {
                serial = cert.Serial, issuerId = cert.IssuerId, notBefore = cert.NotBefore, notAfter = cert.NotAfter, status = status.ToString(),
                pem = PemEncoding.WriteString("CERTIFICATE", cert.Der),
            };
        }
        return new
        {
            emaid = c.Emaid, pcid = c.Pcid, state = c.State.ToString(), isDefault = c.IsDefault, emspId = c.EmspId, origin = c.Origin.ToString(),
            xsdMsgDefNamespace = c.Standard.Namespace(), createdAt = c.CreatedAt, terminatedAt = c.TerminatedAt, terminationReason = c.TerminationReason,
            certificate,
        };
    }
}
