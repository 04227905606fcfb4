using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Server.Authentication;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Api.Participants;

/// <summary>The hub operator's participant administration (admin only), and <c>GET /v1/me</c> for any participant.</summary>
public static class ParticipantEndpoints
{
    public sealed record RegisterParticipant(string Id, string? Name, string Role, IReadOnlyList<string>? Identities, string? Organization);
    public sealed record CertificateRequest(string Csr);
    public sealed record RegisterCertificate(string Certificate);

    public sealed record ParticipantView(string Id, string Name, string Role, IReadOnlyList<string> Identities, string? Organization, bool Disabled);

    /// <summary>A credential without its secret: a client certificate by fingerprint (and serial when we issued it), or an OAuth client id.</summary>
    public sealed record CredentialView(string Kind, string Key, string? IssuerId, string? Serial, DateTimeOffset? NotAfter, DateTimeOffset CreatedAt,
        DateTimeOffset? RevokedAt);

    public sealed record ParticipantDetails(ParticipantView Participant, IReadOnlyList<CredentialView> Credentials);

    /// <param name="Pem">The client certificate and the participant CA, PEM.</param>
    public sealed record IssuedClientCertificate(string Serial, string Fingerprint, string Pem);

    public sealed record RegisteredFingerprint(string Fingerprint, DateTimeOffset? NotAfter);

    /// <summary>The client secret is shown here only.</summary>
    public sealed record CreatedOAuthClient(
        [property: JsonPropertyName("client_id")] string ClientId,
        [property: JsonPropertyName("client_secret")] string ClientSecret);

    public static IEndpointRouteBuilder MapParticipantEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/participants").RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("Participants")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        admin.MapPost("/", RegisterAsync).WithSummary("Register a participant with its role and identities");
        admin.MapGet("/", ListAsync).WithSummary("List participants");
        admin.MapGet("/{id}", GetAsync).WithSummary("A participant and its credentials (never secrets)");
        admin.MapPost("/{id}/certificates", IssueClientCertificateAsync).WithSummary("Issue a mutual-TLS client certificate for the participant from a CSR");
        admin.MapPost("/{id}/fingerprints", RegisterFingerprintAsync).WithSummary("Register a client certificate issued elsewhere, by SHA-256 fingerprint");
        admin.MapPost("/{id}/oauth-clients", CreateOAuthClientAsync).WithSummary("Create an OAuth2 client (the secret is shown once)");
        admin.MapDelete("/{id}/credentials/{kind}/{key}", RevokeCredentialAsync).WithSummary("Revoke a credential (a client certificate of ours is revoked in the CA too)");

        app.MapGet("/v1/me", Me).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("Participants")
            .ProducesProblems(ApiConventions.ParticipantProblems).WithSummary("Who am I");
        return app;
    }

    private static async Task<Results<Created<ParticipantView>, ProblemHttpResult>> RegisterAsync(RegisterParticipant body, ParticipantDirectory directory, HttpContext http)
    {
        if (!Enum.TryParse<ParticipantRole>(body.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role))
            return Problems.BadRequest($"role must be one of {string.Join(", ", Enum.GetNames<ParticipantRole>())}.");
        var p = await directory.RegisterAsync(body.Id, body.Name ?? body.Id, role, body.Identities ?? [], body.Organization, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Created($"/v1/participants/{p.Id}", View(p));
    }

    private static async Task<Ok<List<ParticipantView>>> ListAsync(IParticipantStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(ct)).Select(View).ToList());

    private static async Task<Ok<ParticipantDetails>> GetAsync(string id, ParticipantDirectory directory, CancellationToken ct)
    {
        var p = await directory.GetAsync(id, ct);
        var credentials = await directory.Store.ListCredentialsAsync(id, ct);
        return TypedResults.Ok(new ParticipantDetails(View(p),
            credentials.Select(c => new CredentialView(c.Kind.ToString(), c.Key, c.IssuerId, c.Serial, c.NotAfter, c.CreatedAt, c.RevokedAt)).ToList()));
    }

    private static async Task<Ok<IssuedClientCertificate>> IssueClientCertificateAsync(string id, CertificateRequest body, ParticipantDirectory directory, HttpContext http)
    {
        var csr = Pem.DecodeOne(body.Csr, "CERTIFICATE REQUEST") ?? throw new PkiException(PkiError.BadCsr, "csr must be a PEM or base64 PKCS#10 request.");
        var issued = await directory.IssueClientCertificateAsync(id, csr, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(new IssuedClientCertificate(issued.Record.Serial, ParticipantDirectory.Fingerprint(issued.Certificate.GetEncoded()), issued.ToPemChain()));
    }

    private static async Task<Ok<RegisteredFingerprint>> RegisterFingerprintAsync(string id, RegisterCertificate body, ParticipantDirectory directory, HttpContext http)
    {
        var der = Pem.DecodeOne(body.Certificate, "CERTIFICATE") ?? throw new PkiException(PkiError.Malformed, "certificate must be PEM or base64 DER.");
        var credential = await directory.RegisterCertificateAsync(id, CertificateReader.ReadCertificate(der), Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(new RegisteredFingerprint(credential.Key, credential.NotAfter));
    }

    private static async Task<Ok<CreatedOAuthClient>> CreateOAuthClientAsync(string id, ParticipantDirectory directory, HttpContext http)
    {
        var (clientId, secret) = await directory.CreateOAuthClientAsync(id, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.Ok(new CreatedOAuthClient(clientId, secret));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeCredentialAsync(string id, string kind, string key, ParticipantDirectory directory, HttpContext http)
    {
        if (!Enum.TryParse<CredentialKind>(kind, ignoreCase: true, out var k)) return Problems.BadRequest("kind is ClientCertificate or OAuthClient.");
        await directory.RevokeCredentialAsync(k, key, Scopes.Actor(http), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static Ok<ParticipantView> Me(HttpContext http) => TypedResults.Ok(View(http.User.Participant()!));

    private static ParticipantView View(Participant p) => new(p.Id, p.Name, p.Role.ToString(), p.Identities, p.Organization, p.Disabled);
}
