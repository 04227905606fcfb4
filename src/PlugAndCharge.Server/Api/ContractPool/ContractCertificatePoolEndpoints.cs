using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Api.Cps;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.ContractPool;

/// <summary>
/// OPCP's contract certificate pool (ccp.v1) for CSMSs and eMSPs: a CSMS posts the car's base64 EXI
/// CertificateInstallationReq and gets the signed CertificateInstallationRes, exactly as it would from Hubject; an eMSP
/// looks up its contracts, adds contract data its own MO CA made (our CPS signs it) and deletes it; the OEM pulls signed
/// data for over-the-air installation, lists its vehicles' contracts and picks the default. The installation answer is
/// always a complete EXI message, also when it carries a FAILED code.
/// </summary>
/// <remarks>
/// <see cref="ContractRegistry"/> is marked [FromServices]: its BindAsync (binding a contract) would otherwise be taken
/// for a parameter-binding method of minimal APIs.
/// </remarks>
public static class ContractCertificatePoolEndpoints
{
    public sealed record SignedContractDataRequest(string? CertificateInstallationReq, string? XsdMsgDefNamespace, string? Metadata);

    /// <summary>OPCP <c>CCPResponse</c>: one EMAID's content (OPCP spells the top-level member in capitals).</summary>
    public sealed record InstallationResponse([property: JsonPropertyName("CCPResponse")] CcpResponse CcpResponse);
    public sealed record CcpResponse(IReadOnlyList<EmaidContent> EmaidContent);
    public sealed record EmaidContent(MessageDef MessageDef);

    /// <param name="CertificateInstallationRes">The signed EXI response, base64; also when it carries a FAILED code.</param>
    /// <param name="MetaData">The response code and why, when the installation failed.</param>
    public sealed record MessageDef(string CertificateInstallationRes, string? Emaid, string? MetaData);

    /// <param name="Certificate">Valid, Expired, Revoked, NotYetValid or None.</param>
    public sealed record ContractLookup(string Emaid, string? Pcid, string? State, string Certificate, DateTimeOffset? CertificateNotAfter);

    public sealed record ProvidedContractData(string CertificateInstallationRes, string XsdMsgDefNamespace, string CpsV2GRootCertificateFingerprint);

    /// <summary>OPCP <c>XMLContracts</c>: a vehicle's active contracts.</summary>
    public sealed record VehicleContracts([property: JsonPropertyName("XMLContracts")] IReadOnlyList<XmlContract> XmlContracts);
    public sealed record XmlContract(string Pcid, string Emaid, string XsdMsgDefNamespace, string? ContractCertificate, bool DefaultContract,
        DateTimeOffset? CertValidFrom, DateTimeOffset? CertValidTo);

    public static IEndpointRouteBuilder MapContractCertificatePoolEndpoints(this IEndpointRouteBuilder app)
    {
        var ccp = app.MapGroup("/v1/ccp").WithTags("CCP").ProducesProblems(ApiConventions.ParticipantProblems);
        ccp.MapPost("/signedContractData", InstallAsync).RequireAuthorization(ParticipantAuthentication.Policies.Cpo)
            .WithSummary("Signed contract data for a car's CertificateInstallationReq (OPCP ccp.v1)");
        ccp.MapGet("/lookupContract/{emaid}", LookupAsync).RequireAuthorization(ParticipantAuthentication.Policies.Emsp)
            .WithSummary("A contract's state (eMSP, own provider IDs)");
        ccp.MapPut("/signedContractData", AddAsync).RequireAuthorization(ParticipantAuthentication.Policies.Emsp).ProducesProblems(501)
            .WithSummary("Add contract data made by your MO CA for a vehicle; our CPS signs it (as PUT /v1/cps/contractData/signed)");
        ccp.MapDelete("/signedContractData/{emaid}", DeleteAsync).RequireAuthorization(ParticipantAuthentication.Policies.Emsp)
            .WithSummary("Delete a contract's signed data: the contract ends, a hub-issued certificate is revoked (eMSP, own provider IDs)");
        ccp.MapGet("/provideSignedContractData/{emaid}/{pcid}", ProvideAsync).RequireAuthorization(ParticipantAuthentication.Policies.Oem)
            .WithSummary("A signed CertificateInstallationRes for over-the-air installation (OEM of the PCID)");
        ccp.MapPost("/signedContractData/{pcid}/{emaid}/default", SetDefaultAsync).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant)
            .WithSummary("Make a contract the vehicle's default for offline installation (OEM of the PCID, or the contract's eMSP)");
        ccp.MapGet("/signedContractData/{pcid}", ListForVehicleAsync).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant)
            .WithSummary("The active contracts of a vehicle (OEM of the PCID: all; eMSP: its own)");
        return app;
    }

    private static async Task<Results<Ok<InstallationResponse>, ProblemHttpResult>> InstallAsync(SignedContractDataRequest body,
        InstallationPipeline installation, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.CertificateInstallationReq) || string.IsNullOrWhiteSpace(body.XsdMsgDefNamespace))
            return Problems.BadRequest("certificateInstallationReq and xsdMsgDefNamespace are required.");
        byte[] exi;
        try { exi = Convert.FromBase64String(body.CertificateInstallationReq); }
        catch (FormatException) { return Problems.BadRequest("certificateInstallationReq is not base64."); }
        // Routed by the message-definition namespace; an unknown one is a ContractException (Malformed, 400).
        var outcome = await installation.AnswerAsync(IsoStandards.FromNamespace(body.XsdMsgDefNamespace), exi, ct: ct);
        var content = new EmaidContent(new MessageDef(Convert.ToBase64String(outcome.Response), outcome.Emaid,
            outcome.IsOk ? null : $"{outcome.ResponseCode}: {outcome.Detail}"));
        return TypedResults.Ok(new InstallationResponse(new CcpResponse([content])));
    }

    private static async Task<Results<Ok<ContractLookup>, ProblemHttpResult>> LookupAsync(string emaid, ContractOptions options, [FromServices] ContractRegistry contracts,
        HttpContext http)
    {
        var parsed = Scopes.ParseEmaid(options, emaid);
        _ = Scopes.EmspScope(http, parsed);
        var status = await contracts.GetStatusAsync(parsed.Normalized, http.RequestAborted);
        if (!status.Known) return Problems.NotFound($"No contract {parsed.Normalized}.");
        return TypedResults.Ok(new ContractLookup(status.Emaid, status.Pcid, status.State?.ToString(), status.Certificate.ToString(), status.CertificateNotAfter));
    }

    private static Task<Results<Created<CpsEndpoints.SignedContractDataResponse>, ProblemHttpResult>> AddAsync(CpsEndpoints.SignContractDataRequest body,
        ContractOptions options, ContractDataSigningService signing, IParticipantStore participants, HttpContext http) =>
        CpsEndpoints.SignAsync(body, storeRequired: true, options, signing, participants, http);

    private static async Task<Ok> DeleteAsync(string emaid, ContractOptions options, [FromServices] ContractRegistry contracts, HttpContext http)
    {
        var parsed = Scopes.ParseEmaid(options, emaid);
        // X-Skip-Revocation is not honoured: a hub-issued certificate is always revoked with its contract.
        await contracts.TerminateAsync(Scopes.EmspScope(http, parsed), parsed.Normalized, "deleted from the contract certificate pool",
            Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok();
    }

    private static async Task<Results<Ok<ProvidedContractData>, ProblemHttpResult>> ProvideAsync(string emaid, string pcid, string? xsdMsgDefNamespace,
        string? cpsV2GRootCertificateFingerprint, ContractOptions options, ContractDataSigningService signing, HttpContext http)
    {
        var parsedEmaid = Scopes.ParseEmaid(options, emaid);
        var parsedPcid = Scopes.ParsePcid(pcid);
        if (xsdMsgDefNamespace != null && IsoStandards.FromNamespace(xsdMsgDefNamespace) != IsoStandard.Iso15118_2)
            return Problems.BadRequest("Over-the-air contract data is provided for ISO 15118-2 only.");
        var data = await signing.ProvideAsync(Scopes.OemScope(http, parsedPcid), parsedEmaid.Normalized, parsedPcid.Value,
            string.IsNullOrWhiteSpace(cpsV2GRootCertificateFingerprint) ? null : cpsV2GRootCertificateFingerprint, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(new ProvidedContractData(Convert.ToBase64String(data.CertificateInstallationRes), data.Standard.Namespace(), data.CpsV2GRootFingerprint));
    }

    private static async Task<Results<Ok, ProblemHttpResult>> SetDefaultAsync(string pcid, string emaid, ContractOptions options, [FromServices] ContractRegistry contracts,
        ProvisioningCertificatePool vehicles, HttpContext http)
    {
        var parsedPcid = Scopes.ParsePcid(pcid);
        var parsedEmaid = Scopes.ParseEmaid(options, emaid);
        var me = Scopes.Me(http);
        ContractOwner? owner = null;
        switch (me.Role)
        {
            case ParticipantRole.Oem: _ = await vehicles.GetAsync(Scopes.OemScope(http, parsedPcid), parsedPcid.Value, http.RequestAborted); break;
            case ParticipantRole.Emsp: owner = Scopes.EmspScope(http, parsedEmaid); break;
            case ParticipantRole.Admin: break;
            default: return Problems.Forbidden("Only the vehicle's OEM or the contract's eMSP sets the default contract.");
        }
        await contracts.SetDefaultAsync(owner, parsedPcid.Value, parsedEmaid.Normalized, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok();
    }

    private static async Task<Results<Ok<VehicleContracts>, ProblemHttpResult>> ListForVehicleAsync(string pcid, string? xsdMsgDefNamespace,
        [FromServices] ContractRegistry contracts, ProvisioningCertificatePool vehicles, HttpContext http)
    {
        var parsed = Scopes.ParsePcid(pcid);
        var standard = xsdMsgDefNamespace == null ? (IsoStandard?)null : IsoStandards.FromNamespace(xsdMsgDefNamespace);
        var me = Scopes.Me(http);
        switch (me.Role)
        {
            case ParticipantRole.Oem or ParticipantRole.Admin: _ = await vehicles.GetAsync(Scopes.OemScope(http, parsed), parsed.Value, http.RequestAborted); break;
            case ParticipantRole.Emsp: break;
            default: return Problems.Forbidden("Only the vehicle's OEM or eMSPs (their own contracts) list a vehicle's contracts.");
        }
        var active = (await contracts.ListForVehicleAsync(parsed.Value, http.RequestAborted))
            .Where(c => c.State == ContractState.Active && (me.Role != ParticipantRole.Emsp || c.EmspId == me.Id) && (standard == null || c.Standard == standard));
        return TypedResults.Ok(new VehicleContracts(active.Select(c => new XmlContract(c.Pcid, c.Emaid, c.Standard.Namespace(),
            c.Certificate is { } cert ? Convert.ToBase64String(cert.Der) : null, c.IsDefault, c.Certificate?.NotBefore, c.Certificate?.NotAfter)).ToList()));
    }
}
