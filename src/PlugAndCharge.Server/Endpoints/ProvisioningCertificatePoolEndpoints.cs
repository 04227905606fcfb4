using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

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

    public static IEndpointRouteBuilder MapProvisioningCertificatePoolEndpoints(this IEndpointRouteBuilder app)
    {
        var oem = app.MapGroup("/v1/oem/provCerts").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("PCP");
        oem.MapPut("/", async (AddProvisioningCertificate body, ContractServices contracts, HttpContext http) =>
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
            var oemId = await Scopes.OemOwnerAsync(http, pcid);
            var vehicle = await contracts.Vehicles.AddAsync(oemId, new ProvisioningCertificateUpload(leaf, sub2, sub1, standard), ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(await ViewAsync(vehicle, contracts, http.RequestAborted));
        }).WithSummary("Add (or replace) a vehicle's provisioning certificate (OEM, own WMIs)");

        oem.MapDelete("/{pcid}", async (string pcid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParsePcid(pcid);
            await contracts.Vehicles.DeleteAsync(Scopes.OemScope(http, parsed), parsed.Value, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok();
        }).WithSummary("Delete a provisioning certificate; the vehicle's contracts end with it (certificates revoked, signed data purged)");

        // OPCP lets the MO (eMSP) read a vehicle's certificate too: it encrypts contract keys for it.
        var read = app.MapGroup("/v1/oem/provCerts").RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("PCP");
        read.MapGet("/{pcid}", async (string pcid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParsePcid(pcid);
            var vehicle = await contracts.Vehicles.GetAsync(ReaderScope(http, parsed), parsed.Value, http.RequestAborted);
            return Results.Ok(new Dictionary<string, object> { ["OEMMessage"] = await ViewAsync(vehicle, contracts, http.RequestAborted) });
        }).WithSummary("A vehicle's provisioning certificate with its sub-CAs and root (OEM of the PCID, eMSPs)");

        read.MapGet("/lookupVehicle/{pcid}", async (string pcid, ContractServices contracts, HttpContext http) =>
        {
            var parsed = Scopes.ParsePcid(pcid);
            var oemId = ReaderScope(http, parsed);
            var found = await contracts.Vehicles.LookupAsync(parsed.Value, http.RequestAborted);
            if (!found.Known) return Problems.NotFound("The OEM provisioning certificate with given PCID is not found.");
            if (oemId != null && found.OemId != oemId) return Problems.Forbidden($"PCID {parsed} belongs to another OEM.");
            // eMSPs learn that the vehicle is there, not whose contracts it has.
            return Scopes.Me(http).Role == ParticipantRole.Emsp
                ? Results.Ok(new { pcid = found.Pcid, status = found.Status?.ToString() })
                : Results.Ok(new { pcid = found.Pcid, status = found.Status?.ToString(), oemId = found.OemId, activeContracts = found.ActiveContracts, defaultEmaid = found.DefaultEmaid });
        }).WithSummary("Whether the pool has a provisioning certificate for a PCID (OEM of the PCID, eMSPs)");
        return app;
    }

    /// <summary>OEMs read their own vehicles, eMSPs and the operator any; other roles are refused.</summary>
    private static string? ReaderScope(HttpContext http, Pcid pcid) => Scopes.Me(http).Role switch
    {
        ParticipantRole.Oem or ParticipantRole.Admin => Scopes.OemScope(http, pcid),
        ParticipantRole.Emsp => null,
        _ => throw new ContractException(ContractError.NotOwner, "Only OEMs and eMSPs read the provisioning certificate pool."),
    };

    /// <summary>OPCP <c>ProvisioningCertificateData</c> (plus the pcid): sub-CAs are stored nearest first (Sub-CA 2, Sub-CA 1).</summary>
    private static async Task<object> ViewAsync(ProvisioningCertificate v, ContractServices contracts, CancellationToken ct)
    {
        var root = await contracts.Roots.GetAsync(v.RootId, ct);
        var sub2 = v.SubCaDers.Count >= 2 ? v.SubCaDers[0] : null;
        var sub1 = v.SubCaDers.Count >= 2 ? v.SubCaDers[1] : v.SubCaDers.FirstOrDefault();
        return new
        {
            pcid = v.Pcid,
            vehicleCertificate = Convert.ToBase64String(v.CertificateDer),
            subCA1Certificate = sub1 == null ? null : Convert.ToBase64String(sub1),
            subCA2Certificate = sub2 == null ? null : Convert.ToBase64String(sub2),
            xsdMsgDefNamespace = v.Standard.Namespace(),
            rootIssuerDistinguishedName = root.DistinguishedName,
            rootIssuerSerialNumber = root.SerialNumber,
            rootAuthorityKeyIdentifier = Colons(root.KeyIdentifier),
            fingerprint = CertificateFacts.Fingerprint(v.CertificateDer),
            status = v.Status.ToString(),
            validTo = v.ValidTo,
        };
    }

    private static string Colons(string hex) => string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
}
