using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Server;

/// <summary>
/// Public, unauthenticated publication of CA certificates and CRLs at the stable URLs the certificates' AIA and CRL DP
/// name. A CRL is regenerated when none exists, when a certificate was revoked after it, or when it has passed half
/// its lifetime, once per change however many download it at the same time (<see cref="CrlPublication"/>).
/// </summary>
public static class PkiPublicationEndpoints
{
    public static IEndpointRouteBuilder MapPkiPublicationEndpoints(this IEndpointRouteBuilder app, CertificateAuthorityServices ca, TimeProvider clock)
    {
        var crls = new CrlPublication(ca.Crls, ca.CaStore, ca.Certificates, clock);
        app.MapGet("/ca/{caId}.der", async (string caId, CancellationToken ct) =>
        {
            var record = await ca.CaStore.GetAsync(caId, ct);
            return record == null ? Results.Problem(statusCode: 404, title: "Unknown CA", detail: $"No CA '{caId}'.")
                : Results.File(record.CertificateDer, "application/pkix-cert", $"{caId}.der");
        });
        app.MapGet("/crl/{caId}.crl", async (string caId, HttpContext http, CancellationToken ct) =>
        {
            if (await ca.CaStore.GetAsync(caId, ct) == null) return Results.Problem(statusCode: 404, title: "Unknown CA", detail: $"No CA '{caId}'.");
            var crl = await crls.CurrentAsync(caId, ct);
            var now = clock.GetUtcNow();
            var maxAge = Math.Max(0, (int)((crl.NextUpdate - now).TotalSeconds / 2));
            http.Response.Headers.CacheControl = $"public, max-age={maxAge}";
            http.Response.Headers.LastModified = crl.ThisUpdate.ToString("R");
            return Results.File(crl.Der, "application/pkix-crl", $"{caId}.crl");
        });
        return app;
    }
}
