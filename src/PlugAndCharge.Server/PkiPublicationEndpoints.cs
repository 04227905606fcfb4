using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Pki;

namespace PlugAndCharge.Server;

/// <summary>
/// Public, unauthenticated publication of CA certificates and CRLs at the stable URLs the certificates' AIA and CRL DP
/// name. A CRL is regenerated when none exists, when a certificate was revoked after it, or when it has passed half
/// its lifetime.
/// </summary>
public static class PkiPublicationEndpoints
{
    public static IEndpointRouteBuilder MapPkiPublicationEndpoints(this IEndpointRouteBuilder app, CertificateAuthorityServices ca, TimeProvider clock)
    {
        app.MapGet("/ca/{caId}.der", async (string caId, CancellationToken ct) =>
        {
            var record = await ca.CaStore.GetAsync(caId, ct);
            return record == null ? Results.Problem(statusCode: 404, title: "Unknown CA", detail: $"No CA '{caId}'.")
                : Results.File(record.CertificateDer, "application/pkix-cert", $"{caId}.der");
        });
        app.MapGet("/crl/{caId}.crl", async (string caId, HttpContext http, CancellationToken ct) =>
        {
            if (await ca.CaStore.GetAsync(caId, ct) == null) return Results.Problem(statusCode: 404, title: "Unknown CA", detail: $"No CA '{caId}'.");
            var crl = await ca.CaStore.GetLatestCrlAsync(caId, ct);
            var now = clock.GetUtcNow();
            if (crl == null || now >= crl.ThisUpdate + (crl.NextUpdate - crl.ThisUpdate) / 2 || await RevokedSinceAsync(ca, caId, crl.ThisUpdate, ct))
                crl = await ca.Crls.GenerateAsync(caId, "service:crl-refresh", ct);
            var maxAge = Math.Max(0, (int)((crl.NextUpdate - now).TotalSeconds / 2));
            http.Response.Headers.CacheControl = $"public, max-age={maxAge}";
            http.Response.Headers.LastModified = crl.ThisUpdate.ToString("R");
            return Results.File(crl.Der, "application/pkix-crl", $"{caId}.crl");
        });
        return app;
    }

    /// <summary>A revocation newer than the latest CRL makes that CRL stale at once, whatever its nextUpdate says.</summary>
    private static async Task<bool> RevokedSinceAsync(CertificateAuthorityServices ca, string caId, DateTimeOffset thisUpdate, CancellationToken ct) =>
        (await ca.Certificates.ListRevokedAsync(caId, ct)).Any(r => r.RevokedAt > thisUpdate);
}
