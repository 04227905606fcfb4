using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.ProvisioningPool;

/// <summary>
/// The Provisioning Certificate Pool in the shape of OPCP's pcp.v1: an OEM publishes and deletes the provisioning
/// certificates of vehicles under its WMIs (the chain must lead to one of its registered OEM roots); the OEM and, as
/// OPCP allows, eMSPs read a vehicle's certificate and look a PCID up. Deleting a vehicle ends its contracts.
/// </summary>
public static class ProvisioningCertificatePoolEndpoints
{
    /// <summary>OPCP <c>ProvisioningCertificate</c>; the future names (provisioningCertificate, subCa1Certificate) are accepted too.</summary>
    public sealed record AddProvisioningCertificate(
        string? VehicleCertificate, string? ProvisioningCertificate, string? SubCA1Certificate, string? SubCA2Certificate,
        string? XsdMsgDefNamespace, string? PreviousPcid, IReadOnlyList<string>? V2gRootAuthorityKeyIdentifiers);

    /// <summary>OPCP <c>ProvisioningCertificateData</c> (plus the pcid): certificates base64 DER, the root's key identifier colon-separated hex.</summary>
    /// <param name="Status">Active or Deleted.</param>
    public sealed record VehicleView(string Pcid, string VehicleCertificate, string? SubCA1Certificate, string? SubCA2Certificate, string XsdMsgDefNamespace,
        string RootIssuerDistinguishedName, string RootIssuerSerialNumber, string RootAuthorityKeyIdentifier, string Fingerprint, string Status,
        DateTimeOffset ValidTo);

    /// <summary>OPCP <c>OEMMessage</c> (OPCP spells the top-level member in capitals).</summary>
    public sealed record OemMessage([property: JsonPropertyName("OEMMessage")] VehicleView Vehicle);

    /// <summary>What an eMSP learns of a PCID: that the vehicle is there, not whose contracts it has.</summary>
    public sealed record VehiclePresence(string Pcid, string? Status);

    /// <summary>
    /// What the vehicle's OEM (and the hub operator) learns of a PCID. The OpenAPI document shows this shape for both
    /// roles, so the fields an eMSP does not get are optional there (init-only, not constructor parameters).
    /// </summary>
    public sealed record VehicleLookupView(string Pcid, string? Status)
    {
        public string? OemId { get; init; }
        public int? ActiveContracts { get; init; }
        public string? DefaultEmaid { get; init; }
    }

    public static IEndpointRouteBuilder MapProvisioningCertificatePoolEndpoints(this IEndpointRouteBuilder app)
    {
        var oem = app.MapGroup("/v1/oem/provCerts").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("PCP")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        oem.MapPut("/", AddAsync).WithSummary("Add (or replace) a vehicle's provisioning certificate (OEM, own WMIs)");
        oem.MapDelete("/{pcid}", DeleteAsync)
            .WithSummary("Delete a provisioning certificate; the vehicle's contracts end with it (certificates revoked, signed data purged)");

        // OPCP lets the MO (eMSP) read a vehicle's certificate too: it encrypts contract keys for it.
        var read = app.MapGroup("/v1/oem/provCerts").RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("PCP")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        read.MapGet("/{pcid}", GetAsync).WithSummary("A vehicle's provisioning certificate with its sub-CAs and root (OEM of the PCID, eMSPs)");
        read.MapGet("/lookupVehicle/{pcid}", LookupAsync)
            .WithSummary("Whether the pool has a provisioning certificate for a PCID (OEM of the PCID: with its contracts; eMSPs: pcid and status only)");
        return app;
    }

    private static async Task<Results<Ok<VehicleView>, ProblemHttpResult>> AddAsync(AddProvisioningCertificate body, ProvisioningCertificatePool vehicles,
        RootCertificatePool roots, IParticipantStore participants, HttpContext http)
    {
        if (Pem.DecodeChain(("vehicleCertificate", body.VehicleCertificate ?? body.ProvisioningCertificate), ("subCA2Certificate", body.SubCA2Certificate),
                ("subCA1Certificate", body.SubCA1Certificate), out var problem) is not { } chain)
            return Problems.BadRequest(problem);
        var (leaf, sub2, sub1) = chain;
        if (body.PreviousPcid != null) _ = Scopes.ParsePcid(body.PreviousPcid);
        var standard = body.XsdMsgDefNamespace == null ? (IsoStandard?)null : IsoStandards.FromNamespace(body.XsdMsgDefNamespace);

        // The scope comes from the certificate itself: its CN is the PCID, whose WMI must be the caller's.
        var cn = CertificateFacts.CommonName(CertificateFacts.Read(leaf, "vehicleCertificate"));
        if (!Pcid.TryParse(cn, out var pcid, out var why))
            throw new ContractException(ContractError.ProfileViolation, $"The provisioning certificate's CN '{cn}' is not a PCID: {why}");
        var oemId = await Scopes.OemOwnerAsync(http, participants, pcid);
        var vehicle = await vehicles.AddAsync(oemId, new ProvisioningCertificateUpload(leaf, sub2, sub1, standard), Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(vehicle, roots, http.RequestAborted));
    }

    private static async Task<Ok> DeleteAsync(string pcid, ProvisioningCertificatePool vehicles, HttpContext http)
    {
        var parsed = Scopes.ParsePcid(pcid);
        await vehicles.DeleteAsync(Scopes.OemScope(http, parsed), parsed.Value, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok();
    }

    private static async Task<Ok<OemMessage>> GetAsync(string pcid, ProvisioningCertificatePool vehicles, RootCertificatePool roots, HttpContext http)
    {
        var parsed = Scopes.ParsePcid(pcid);
        var vehicle = await vehicles.GetAsync(ReaderScope(http, parsed), parsed.Value, http.RequestAborted);
        return TypedResults.Ok(new OemMessage(await ViewAsync(vehicle, roots, http.RequestAborted)));
    }

    // The OEM's answer is declared last: the OpenAPI document keeps the last type per status, and it is the eMSP's plus three fields.
    private static async Task<Results<Ok<VehiclePresence>, Ok<VehicleLookupView>, ProblemHttpResult>> LookupAsync(string pcid,
        ProvisioningCertificatePool vehicles, HttpContext http)
    {
        var parsed = Scopes.ParsePcid(pcid);
        var oemId = ReaderScope(http, parsed);
        var found = await vehicles.LookupAsync(parsed.Value, http.RequestAborted);
        if (!found.Known) return Problems.NotFound("The OEM provisioning certificate with given PCID is not found.");
        if (oemId != null && found.OemId != oemId) return Problems.Forbidden($"PCID {parsed} belongs to another OEM.");
        // eMSPs learn that the vehicle is there, not whose contracts it has.
        if (Scopes.Me(http).Role == ParticipantRole.Emsp) return TypedResults.Ok(new VehiclePresence(found.Pcid, found.Status?.ToString()));
        return TypedResults.Ok(new VehicleLookupView(found.Pcid, found.Status?.ToString())
        {
            OemId = found.OemId, ActiveContracts = found.ActiveContracts, DefaultEmaid = found.DefaultEmaid,
        });
    }

    /// <summary>OEMs read their own vehicles, eMSPs and the operator any; other roles are refused.</summary>
    private static string? ReaderScope(HttpContext http, Pcid pcid) => Scopes.Me(http).Role switch
    {
        ParticipantRole.Oem or ParticipantRole.Admin => Scopes.OemScope(http, pcid),
        ParticipantRole.Emsp => null,
        _ => throw new ContractException(ContractError.NotOwner, "Only OEMs and eMSPs read the provisioning certificate pool."),
    };

    /// <summary>Sub-CAs are stored nearest first (Sub-CA 2, Sub-CA 1).</summary>
    private static async Task<VehicleView> ViewAsync(ProvisioningCertificate v, RootCertificatePool roots, CancellationToken ct)
    {
        var root = await roots.GetAsync(v.RootId, ct);
        var sub2 = v.SubCaDers.Count >= 2 ? v.SubCaDers[0] : null;
        var sub1 = v.SubCaDers.Count >= 2 ? v.SubCaDers[1] : v.SubCaDers.FirstOrDefault();
        return new VehicleView(v.Pcid, Convert.ToBase64String(v.CertificateDer), sub1 == null ? null : Convert.ToBase64String(sub1),
            sub2 == null ? null : Convert.ToBase64String(sub2), v.Standard.Namespace(), root.DistinguishedName, root.SerialNumber, Colons(root.KeyIdentifier),
            CertificateFacts.Fingerprint(v.CertificateDer), v.Status.ToString(), v.ValidTo);
    }

    private static string Colons(string hex) => string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
}
