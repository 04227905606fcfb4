using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// OPCP's contract certificate pool (ccp.v1) for CSMSs and eMSPs: a CSMS posts the car's base64 EXI
/// CertificateInstallationReq and gets the signed CertificateInstallationRes, exactly as it would from Hubject; an eMSP
/// looks up its contracts. The installation answer is always a complete EXI message, also when it carries a FAILED code.
/// </summary>
public static class ContractEndpoints
{
    public sealed record SignedContractDataRequest(string? CertificateInstallationReq, string? XsdMsgDefNamespace, string? Metadata);

    public static IEndpointRouteBuilder MapContractEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/ccp/signedContractData", async (SignedContractDataRequest body, ContractServices contracts, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.CertificateInstallationReq) || string.IsNullOrWhiteSpace(body.XsdMsgDefNamespace))
                return Problems.BadRequest("certificateInstallationReq and xsdMsgDefNamespace are required.");
            byte[] exi;
            try { exi = Convert.FromBase64String(body.CertificateInstallationReq); }
            catch (FormatException) { return Problems.BadRequest("certificateInstallationReq is not base64."); }
            var outcome = await contracts.AnswerAsync(exi, body.XsdMsgDefNamespace, ct);
            // OPCP spells the top-level member "CCPResponse"; a dictionary key keeps it from the camel-case policy.
            return Results.Ok(new Dictionary<string, object>
            {
                ["CCPResponse"] = new
                {
                    emaidContent = new[]
                    {
                        new { messageDef = new { certificateInstallationRes = Convert.ToBase64String(outcome.Response), emaid = outcome.Emaid, metaData = outcome.IsOk ? null : $"{outcome.ResponseCode}: {outcome.Detail}" } },
                    },
                },
            });
        }).RequireAuthorization(ParticipantAuthentication.Policies.Cpo).WithTags("CCP")
          .WithSummary("Signed contract data for a car's CertificateInstallationReq (OPCP ccp.v1)");

        app.MapGet("/v1/ccp/lookupContract/{emaid}", async (string emaid, ContractServices contracts, HttpContext http) =>
        {
            if (!Emaid.TryParse(emaid, IdentifierStrictness.Lenient, out var parsed, out var error)) return Problems.BadRequest(error);
            var me = http.User.Participant()!;
            if (!me.IsAdmin && !me.OwnsEmaid(parsed)) return Problems.Forbidden($"EMAID {parsed.Normalized} is not under one of your provider IDs.");
            var status = await contracts.Contracts.GetStatusAsync(parsed.Normalized, http.RequestAborted);
            if (!status.Known) return Problems.NotFound($"No contract {parsed.Normalized}.");
            return Results.Ok(new
            {
                emaid = status.Emaid, pcid = status.Pcid, state = status.State?.ToString(), certificate = status.Certificate.ToString(),
                certificateNotAfter = status.CertificateNotAfter,
            });
        }).RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CCP").WithSummary("A contract's state (eMSP, own provider IDs)");
        return app;
    }
}
