using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// OPCP's contract certificate pool (ccp.v1) for CSMSs and eMSPs: a CSMS posts the car's base64 EXI
/// CertificateInstallationReq and gets the signed CertificateInstallationRes, exactly as it would from Hubject; an eMSP
/// looks up its contracts, adds contract data its own MO CA made (our CPS signs it) and deletes it; the OEM pulls signed
/// data for over-the-air installation, lists its vehicles' contracts and picks the default. The installation answer is
/// always a complete EXI message, also when it carries a FAILED code.
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
            var outcome = await contracts.AnswerAsync(exi, body.XsdMsgDefNamespace, ct: ct);
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
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            _ = Scopes.EmspScope(http, parsed);
            var status = await contracts.Contracts.GetStatusAsync(parsed.Normalized, http.RequestAborted);
            if (!status.Known) return Problems.NotFound($"No contract {parsed.Normalized}.");
            return Results.Ok(new
            {
                emaid = status.Emaid, pcid = status.Pcid, state = status.State?.ToString(), certificate = status.Certificate.ToString(),
                certificateNotAfter = status.CertificateNotAfter,
            });
        }).RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CCP").WithSummary("A contract's state (eMSP, own provider IDs)");

        app.MapPut("/v1/ccp/signedContractData", (CpsEndpoints.SignContractDataRequest body, ContractServices contracts, HttpContext http) =>
            CpsEndpoints.SignAsync(body, storeRequired: true, contracts, http))
            .RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CCP")
            .WithSummary("Add contract data made by your MO CA for a vehicle; our CPS signs it (as PUT /v1/cps/contractData/signed)");

        app.MapDelete("/v1/ccp/signedContractData/{emaid}", async (string emaid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParseEmaid(contracts, emaid);
            // X-Skip-Revocation is not honoured: a hub-issued certificate is always revoked with its contract.
            await contracts.Contracts.TerminateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized, "deleted from the contract certificate pool",
                ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok();
        }).RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CCP")
          .WithSummary("Delete a contract's signed data: the contract ends, a hub-issued certificate is revoked (eMSP, own provider IDs)");

        app.MapGet("/v1/ccp/provideSignedContractData/{emaid}/{pcid}", async (string emaid, string pcid, string? xsdMsgDefNamespace, string? cpsV2GRootCertificateFingerprint,
            ContractServices contracts, HttpContext http) =>
        {
            var parsedEmaid = Scopes.ParseEmaid(contracts, emaid);
            var parsedPcid = Scopes.ParsePcid(pcid);
            if (xsdMsgDefNamespace != null && IsoStandards.FromNamespace(xsdMsgDefNamespace) != IsoStandard.Iso15118_2)
                return Problems.BadRequest("Over-the-air contract data is provided for ISO 15118-2 only.");
            var data = await contracts.ContractDataSigning.ProvideAsync(Scopes.OemScope(http, parsedPcid), parsedEmaid.Normalized, parsedPcid.Value,
                string.IsNullOrWhiteSpace(cpsV2GRootCertificateFingerprint) ? null : cpsV2GRootCertificateFingerprint, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(new
            {
                certificateInstallationRes = Convert.ToBase64String(data.CertificateInstallationRes), xsdMsgDefNamespace = data.Standard.Namespace(),
                cpsV2GRootCertificateFingerprint = data.CpsV2GRootFingerprint,
            });
        }).RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("CCP")
          .WithSummary("A signed CertificateInstallationRes for over-the-air installation (OEM of the PCID)");

        app.MapPost("/v1/ccp/signedContractData/{pcid}/{emaid}/default", async (string pcid, string emaid, ContractServices contracts, HttpContext http) =>
        {
            var parsedPcid = Scopes.ParsePcid(pcid);
            var parsedEmaid = Scopes.ParseEmaid(contracts, emaid);
            var me = Scopes.Me(http);
            ContractOwner? owner = null;
            switch (me.Role)
            {
                case ParticipantRole.Oem: _ = await contracts.Vehicles.GetAsync(Scopes.OemScope(http, parsedPcid), parsedPcid.Value, http.RequestAborted); break;
                case ParticipantRole.Emsp: owner = Scopes.EmspScope(http, parsedEmaid); break;
                case ParticipantRole.Admin: break;
                default: return Problems.Forbidden("Only the vehicle's OEM or the contract's eMSP sets the default contract.");
            }
            await contracts.Contracts.SetDefaultAsync(owner, parsedPcid.Value, parsedEmaid.Normalized, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok();
        }).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("CCP")
          .WithSummary("Make a contract the vehicle's default for offline installation (OEM of the PCID, or the contract's eMSP)");

        app.MapGet("/v1/ccp/signedContractData/{pcid}", async (string pcid, string? xsdMsgDefNamespace, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParsePcid(pcid);
            var standard = xsdMsgDefNamespace == null ? (IsoStandard?)null : IsoStandards.FromNamespace(xsdMsgDefNamespace);
            var me = Scopes.Me(http);
            switch (me.Role)
            {
                case ParticipantRole.Oem or ParticipantRole.Admin: _ = await contracts.Vehicles.GetAsync(Scopes.OemScope(http, parsed), parsed.Value, http.RequestAborted); break;
                case ParticipantRole.Emsp: break;
                default: return Problems.Forbidden("Only the vehicle's OEM or eMSPs (their own contracts) list a vehicle's contracts.");
            }
            var active = (await contracts.Contracts.ListForVehicleAsync(parsed.Value, http.RequestAborted))
                .Where(c => c.State == ContractState.Active && (me.Role != ParticipantRole.Emsp || c.EmspId == me.Id) && (standard == null || c.Standard == standard));
            // OPCP spells the top-level member "XMLContracts".
            return Results.Ok(new Dictionary<string, object>
            {
                ["XMLContracts"] = active.Select(c => new
                {
                    pcid = c.Pcid, emaid = c.Emaid, xsdMsgDefNamespace = c.Standard.Namespace(),
                    contractCertificate = c.Certificate is { } cert ? Convert.ToBase64String(cert.Der) : null,
                    defaultContract = c.IsDefault, certValidFrom = c.Certificate?.NotBefore, certValidTo = c.Certificate?.NotAfter,
                }).ToList(),
            });
        }).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("CCP")
          .WithSummary("The active contracts of a vehicle (OEM of the PCID: all; eMSP: its own)");
        return app;
    }
}
