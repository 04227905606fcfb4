using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Server.Api.Publication;

/// <summary>
/// Public, unauthenticated publication of CA certificates and CRLs at the stable URLs the certificates' AIA and CRL DP
/// name. A CRL is regenerated when none exists, when a certificate was revoked after it, or when it has passed half
/// its lifetime, once per change however many download it at the same time (<see cref="CrlPublication"/>).
/// </summary>
public static class PkiPublicationEndpoints
{
    public static IEndpointRouteBuilder MapPkiPublicationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/ca/{caId}.der", CaCertificateAsync).WithTags("PKI publication").ProducesBinary(200, "application/pkix-cert")
            .ProducesProblems(ApiConventions.PublicProblems).WithSummary("A CA certificate (DER), as the AIA of the certificates it issued names it");
        app.MapGet("/crl/{caId}.crl", CrlAsync).WithTags("PKI publication").ProducesBinary(200, "application/pkix-crl")
            .ProducesProblems(ApiConventions.PublicProblems).WithSummary("A CA's current CRL (DER), as the CRL distribution point of its certificates names it");
        return app;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CaCertificateAsync(string caId, ICertificateAuthorityStore cas, CancellationToken ct)
    {
        var record = await cas.GetAsync(caId, ct);
        return record == null ? UnknownCa(caId) : TypedResults.File(record.CertificateDer, "application/pkix-cert", $"{caId}.der");
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CrlAsync(string caId, ICertificateAuthorityStore cas, CrlPublication crls,
        TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (await cas.GetAsync(caId, ct) == null) return UnknownCa(caId);
        var crl = await crls.CurrentAsync(caId, ct);
        var now = clock.GetUtcNow();
        var maxAge = Math.Max(0, (int)((crl.NextUpdate - now).TotalSeconds / 2));
        http.Response.Headers.CacheControl = $"public, max-age={maxAge}";
        http.Response.Headers.LastModified = crl.ThisUpdate.ToString("R");
        return TypedResults.File(crl.Der, "application/pkix-crl", $"{caId}.crl");
    }

    private static ProblemHttpResult UnknownCa(string caId) => TypedResults.Problem(statusCode: 404, title: "Unknown CA", detail: $"No CA '{caId}'.");
}
