using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Server.Authentication;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>The hub operator's participant administration (admin only), and <c>GET /v1/me</c> for any participant.</summary>
public static class ParticipantEndpoints
{
    public sealed record RegisterParticipant(string Id, string? Name, string Role, IReadOnlyList<string>? Identities, string? Organization);
    public sealed record CertificateRequest(string Csr);
    public sealed record RegisterCertificate(string Certificate);

    public static IEndpointRouteBuilder MapParticipantEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/participants").RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("Participants");

        admin.MapPost("/", async (RegisterParticipant body, ParticipantDirectory directory, HttpContext http) =>
        {
            if (!Enum.TryParse<ParticipantRole>(body.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role))
                return Problems.BadRequest($"role must be one of {string.Join(", ", Enum.GetNames<ParticipantRole>())}.");
            var p = await directory.RegisterAsync(body.Id, body.Name ?? body.Id, role, body.Identities ?? [], body.Organization, Actor(http), http.RequestAborted);
            return Results.Created($"/v1/participants/{p.Id}", View(p));
        }).WithSummary("Register a participant with its role and identities");

        admin.MapGet("/", async (IParticipantStore store, CancellationToken ct) => Results.Ok((await store.ListAsync(ct)).Select(View)))
            .WithSummary("List participants");

        admin.MapGet("/{id}", async (string id, ParticipantDirectory directory, CancellationToken ct) =>
        {
            var p = await directory.GetAsync(id, ct);
            var credentials = await directory.Store.ListCredentialsAsync(id, ct);
            return Results.Ok(new { participant = View(p), credentials = credentials.Select(c => new { kind = c.Kind.ToString(), key = c.Key, c.IssuerId, c.Serial, c.NotAfter, c.CreatedAt, c.RevokedAt }) });
        }).WithSummary("A participant and its credentials (never secrets)");

        admin.MapPost("/{id}/certificates", async (string id, CertificateRequest body, ParticipantDirectory directory, HttpContext http) =>
        {
            var csr = Pem.DecodeOne(body.Csr, "CERTIFICATE REQUEST") ?? throw new PkiException(PkiError.BadCsr, "csr must be a PEM or base64 PKCS#10 request.");
            var issued = await directory.IssueClientCertificateAsync(id, csr, Actor(http), http.RequestAborted);
            return Results.Ok(new { serial = issued.Record.Serial, fingerprint = ParticipantDirectory.Fingerprint(issued.Certificate.GetEncoded()), pem = issued.ToPemChain() });
        }).WithSummary("Issue a mutual-TLS client certificate for the participant from a CSR");

        admin.MapPost("/{id}/fingerprints", async (string id, RegisterCertificate body, ParticipantDirectory directory, HttpContext http) =>
        {
            var der = Pem.DecodeOne(body.Certificate, "CERTIFICATE") ?? throw new PkiException(PkiError.Malformed, "certificate must be PEM or base64 DER.");
            var credential = await directory.RegisterCertificateAsync(id, CertificateReader.ReadCertificate(der), Actor(http), http.RequestAborted);
            return Results.Ok(new { fingerprint = credential.Key, credential.NotAfter });
        }).WithSummary("Register a client certificate issued elsewhere, by SHA-256 fingerprint");

        admin.MapPost("/{id}/oauth-clients", async (string id, ParticipantDirectory directory, HttpContext http) =>
        {
            var (clientId, secret) = await directory.CreateOAuthClientAsync(id, Actor(http), http.RequestAborted);
            return Results.Ok(new { client_id = clientId, client_secret = secret });
        }).WithSummary("Create an OAuth2 client (the secret is shown once)");

        admin.MapDelete("/{id}/credentials/{kind}/{key}", async (string id, string kind, string key, ParticipantDirectory directory, HttpContext http) =>
        {
            if (!Enum.TryParse<CredentialKind>(kind, ignoreCase: true, out var k)) return Problems.BadRequest("kind is ClientCertificate or OAuthClient.");
            await directory.RevokeCredentialAsync(k, key, Actor(http), http.RequestAborted);
            return Results.NoContent();
        }).WithSummary("Revoke a credential (a client certificate of ours is revoked in the CA too)");

        app.MapGet("/v1/me", (HttpContext http) => Results.Ok(View(http.User.Participant()!)))
            .RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("Participants").WithSummary("Who am I");
        return app;
    }

    public static string Actor(HttpContext http) => http.User.Participant() is { } p ? $"participant:{p.Id}" : "anonymous";

    private static object View(Participant p) => new { id = p.Id, name = p.Name, role = p.Role.ToString(), identities = p.Identities, organization = p.Organization, disabled = p.Disabled };
}
