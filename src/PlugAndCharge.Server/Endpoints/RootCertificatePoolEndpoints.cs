using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// The Root Certificate Pool in the shape of OPCP's rcp.v1: every participant may read the V2G, MO and OEM roots
/// (chargers and CSMSs install them); the hub operator adds and deletes, an OEM may add its own OEM roots (for its
/// WMIs). Fingerprints are SHA-256.
/// </summary>
public static class RootCertificatePoolEndpoints
{
    public sealed record AddRoot(string? CaCertificate, string? RootType, string? OwnerId, IReadOnlyList<string>? Wmis);

    public static IEndpointRouteBuilder MapRootCertificatePoolEndpoints(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("RCP");
        read.MapGet("/rootCerts", async (ContractServices contracts, CancellationToken ct) =>
            Results.Ok(new Dictionary<string, object>
            {
                ["RootCertificateCollection"] = new { rootCertificates = (await contracts.Roots.ListAsync(null, ct)).Select(View) },
            })).WithSummary("All root certificates of the pool");
        read.MapGet("/rootCerts/{rootCertificateId}", async (string rootCertificateId, ContractServices contracts, CancellationToken ct) =>
        {
            if (!Guid.TryParse(rootCertificateId, out var id)) return Problems.BadRequest("rootCertificateId is not a UUID.");
            return Results.Ok(new Dictionary<string, object> { ["RootResponse"] = View(await contracts.Roots.GetAsync(id, ct)) });
        }).WithSummary("One root certificate");

        // The operator adds any root; an OEM adds OEM roots for itself only, scoped to WMIs of its own.
        var add = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("RCP");
        add.MapPut("/rootCerts", async (AddRoot body, ContractServices contracts, HttpContext http) =>
        {
            var der = Pem.DecodeOne(body.CaCertificate, "CERTIFICATE");
            if (der == null) return Problems.BadRequest("caCertificate must be a base64 DER or PEM certificate.");
            var type = body.RootType is { } t
                ? Enum.TryParse<RootType>(t, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : (RootType?)null
                : TypeFromDomainComponent(der);
            if (type == null) return Problems.BadRequest("rootType must be V2G, MO, OEM or PE (or the certificate's DC must say which).");
            var me = http.User.Participant()!;
            var (owner, wmis) = (body.OwnerId, body.Wmis);
            if (!me.IsAdmin)
            {
                if (type != RootType.OEM) return Problems.Forbidden($"An OEM may add OEM roots only, not {type} roots.");
                if (owner != null && owner != me.Id) return Problems.Forbidden("An OEM adds roots for itself only (ownerId is yours or absent).");
                var foreign = (wmis ?? []).Where(w => !me.Owns(w)).ToList();
                if (foreign.Count > 0) return Problems.Forbidden($"WMIs {string.Join(", ", foreign)} are not yours (yours: {string.Join(", ", me.Identities)}).");
                // Without wmis the root vouches for all of the OEM's WMIs.
                (owner, wmis) = (me.Id, wmis is { Count: > 0 } ? wmis : me.Identities);
            }
            var added = await contracts.Roots.AddAsync(der, type.Value, owner, wmis, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok(new Dictionary<string, object> { ["RootResponse"] = View(added) });
        }).WithSummary("Add a root certificate (hub operator: any; OEM: its own OEM root for its WMIs)");

        var write = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("RCP");
        write.MapDelete("/rootCerts/{rootCertificateId}", async (string rootCertificateId, ContractServices contracts, HttpContext http) =>
        {
            if (!Guid.TryParse(rootCertificateId, out var id)) return Problems.BadRequest("rootCertificateId is not a UUID.");
            await contracts.Roots.DeleteAsync(id, ParticipantEndpoints.Actor(http), http.RequestAborted);
            return Results.Ok();
        }).WithSummary("Delete a root certificate (hub operator)");
        return app;
    }

    private static RootType? TypeFromDomainComponent(byte[] der)
    {
        var dc = PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(der).SubjectDN.GetValueList(Org.BouncyCastle.Asn1.X509.X509Name.DC);
        return dc.Count > 0 && Enum.TryParse<RootType>(dc[0], ignoreCase: true, out var t) ? t : null;
    }

    private static object View(RootCertificate r) => new
    {
        rootCertificateId = r.Id, rootType = r.Type.ToString(), distinguishedName = r.DistinguishedName, caCertificate = Convert.ToBase64String(r.Der),
        commonName = r.CommonName, rootAuthorityKeyIdentifierHex = r.KeyIdentifier, rootIssuerSerialNumber = r.SerialNumber,
        validFrom = r.ValidFrom, validTo = r.ValidTo, organizationName = r.OrganizationName, fingerprint = r.Fingerprint,
        xsdMsgDefNamespace = r.Standard.Namespace(),
        signatureAlgorithm = r.SignatureAlgorithm,
    };
}
