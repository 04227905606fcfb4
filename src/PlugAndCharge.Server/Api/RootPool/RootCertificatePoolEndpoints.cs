using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.RootPool;

/// <summary>
/// The Root Certificate Pool in the shape of OPCP's rcp.v1: every participant may read the V2G, MO and OEM roots
/// (chargers and CSMSs install them); the hub operator adds and deletes, an OEM may add its own OEM roots (for its
/// WMIs). Fingerprints are SHA-256.
/// </summary>
public static class RootCertificatePoolEndpoints
{
    public sealed record AddRoot(string? CaCertificate, string? RootType, string? OwnerId, IReadOnlyList<string>? Wmis);

    /// <summary>OPCP <c>RootCertificateCollection</c> (OPCP spells the top-level member in capitals).</summary>
    public sealed record RootCollection([property: JsonPropertyName("RootCertificateCollection")] RootCertificateList RootCertificateCollection);
    public sealed record RootCertificateList(IReadOnlyList<RootView> RootCertificates);

    /// <summary>OPCP <c>RootResponse</c>.</summary>
    public sealed record RootResponse([property: JsonPropertyName("RootResponse")] RootView Root);

    /// <summary>OPCP <c>RootCertificate</c>: the certificate base64 DER, its SHA-256 fingerprint and key identifier hex.</summary>
    /// <param name="RootType">V2G, MO, OEM or PE.</param>
    public sealed record RootView(Guid RootCertificateId, string RootType, string DistinguishedName, string CaCertificate, string CommonName,
        string RootAuthorityKeyIdentifierHex, string RootIssuerSerialNumber, DateTimeOffset ValidFrom, DateTimeOffset ValidTo, string? OrganizationName,
        string Fingerprint, string XsdMsgDefNamespace, string SignatureAlgorithm);

    public static IEndpointRouteBuilder MapRootCertificatePoolEndpoints(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("RCP")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        read.MapGet("/rootCerts", ListAsync).WithSummary("All root certificates of the pool");
        read.MapGet("/rootCerts/{rootCertificateId}", GetAsync).WithSummary("One root certificate");

        // The operator adds any root; an OEM adds OEM roots for itself only, scoped to WMIs of its own.
        var add = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.Oem).WithTags("RCP")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        add.MapPut("/rootCerts", AddAsync).WithSummary("Add a root certificate (hub operator: any; OEM: its own OEM root for its WMIs)");

        var write = app.MapGroup("/v1/root").RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("RCP")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        write.MapDelete("/rootCerts/{rootCertificateId}", DeleteAsync).WithSummary("Delete a root certificate (hub operator)");
        return app;
    }

    private static async Task<Ok<RootCollection>> ListAsync(RootCertificatePool roots, CancellationToken ct) =>
        TypedResults.Ok(new RootCollection(new RootCertificateList((await roots.ListAsync(null, ct)).Select(View).ToList())));

    private static async Task<Results<Ok<RootResponse>, ProblemHttpResult>> GetAsync(string rootCertificateId,
        RootCertificatePool roots, CancellationToken ct)
    {
        if (!Guid.TryParse(rootCertificateId, out var id)) return Problems.BadRequest("rootCertificateId is not a UUID.");
        return TypedResults.Ok(new RootResponse(View(await roots.GetAsync(id, ct))));
    }

    private static async Task<Results<Ok<RootResponse>, ProblemHttpResult>> AddAsync(AddRoot body, RootCertificatePool roots,
        HttpContext http)
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
        var added = await roots.AddAsync(der, type.Value, owner, wmis, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(new RootResponse(View(added)));
    }

    private static async Task<Results<Ok, ProblemHttpResult>> DeleteAsync(string rootCertificateId, RootCertificatePool roots,
        HttpContext http)
    {
        if (!Guid.TryParse(rootCertificateId, out var id)) return Problems.BadRequest("rootCertificateId is not a UUID.");
        await roots.DeleteAsync(id, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok();
    }

    private static RootType? TypeFromDomainComponent(byte[] der)
    {
        var dc = PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(der).SubjectDN.GetValueList(Org.BouncyCastle.Asn1.X509.X509Name.DC);
        return dc.Count > 0 && Enum.TryParse<RootType>(dc[0], ignoreCase: true, out var t) ? t : null;
    }

    private static RootView View(RootCertificate r) => new(r.Id, r.Type.ToString(), r.DistinguishedName, Convert.ToBase64String(r.Der), r.CommonName,
        r.KeyIdentifier, r.SerialNumber, r.ValidFrom, r.ValidTo, r.OrganizationName, r.Fingerprint, r.Standard.Namespace(), r.SignatureAlgorithm);
}
