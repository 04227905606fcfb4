using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Api.OAuth;

/// <summary>
/// <c>POST /oauth/token</c>, the OAuth2 client-credentials grant (RFC 6749 §4.4) in the shape of OPCP's accessToken API:
/// JSON or form body, or HTTP Basic client authentication (RFC 6749 §2.3.1). Errors use RFC 6749 §5.2's JSON form.
/// </summary>
public static class OAuthEndpoints
{
    /// <summary>The OPCP scopes a token may carry; which ones a participant really gets follows its role.</summary>
    private static string ScopeFor(ParticipantRole role) => role switch
    {
        ParticipantRole.Admin => "rcpservice ccpservice pcpservice cpservice pkigateway admin",
        ParticipantRole.Oem => "pcpservice ccpservice rcpservice pkigateway",
        ParticipantRole.Emsp => "cpservice ccpservice rcpservice pkigateway",
        ParticipantRole.Cpo => "ccpservice rcpservice pkigateway",
        _ => "",
    };

    /// <summary>RFC 6749 §5.1 access token response.</summary>
    public sealed record AccessTokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("scope")] string Scope,
        [property: JsonPropertyName("expires_in")] long ExpiresIn,
        [property: JsonPropertyName("token_type")] string TokenType);

    /// <summary>RFC 6749 §5.2 error response.</summary>
    public sealed record OAuthError(
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("error_description")] string ErrorDescription);

    public static IEndpointRouteBuilder MapOAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/oauth/token", IssueTokenAsync).AllowAnonymous().WithName("issue-token").WithTags("OAuth")
            .Produces<OAuthError>(400).Produces<OAuthError>(401).ProducesProblems(403, 503)
            .WithSummary("Client-credentials access token (OPCP accessToken.v1)");
        return app;
    }

    private static async Task<Results<Ok<AccessTokenResponse>, JsonHttpResult<OAuthError>>> IssueTokenAsync(HttpContext http, IParticipantStore participants, AccessTokens tokens)
    {
        var (grantType, clientId, clientSecret) = await ReadRequestAsync(http);
        if (grantType != "client_credentials")
            return Error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.");
        if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(clientSecret))
            return Error(400, "invalid_request", "client_id and client_secret are required.");
        var found = await participants.FindCredentialAsync(CredentialKind.OAuthClient, clientId, http.RequestAborted);
        if (found is not { } f || f.Credential.RevokedAt != null || f.Participant.Disabled || f.Credential.SecretHash == null
            || !ClientSecrets.Verify(clientSecret, f.Credential.SecretHash))
            return Error(401, "invalid_client", "Unknown client or wrong secret.");
        var scope = ScopeFor(f.Participant.Role);
        return TypedResults.Ok(new AccessTokenResponse(tokens.Issue(f.Participant.Id, clientId, scope), scope, (long)tokens.Lifetime.TotalSeconds, "Bearer"));
    }

    private static JsonHttpResult<OAuthError> Error(int status, string error, string description) =>
        TypedResults.Json(new OAuthError(error, description), statusCode: status);

    private static async Task<(string? GrantType, string? ClientId, string? Secret)> ReadRequestAsync(HttpContext http)
    {
        string? grant = null, id = null, secret = null;
        try
        {
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                grant = form["grant_type"]; id = form["client_id"]; secret = form["client_secret"];
            }
            else if (http.Request.ContentLength is > 0 and < 16_384 || http.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
                string? Prop(string n) => doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                grant = Prop("grant_type"); id = Prop("client_id"); secret = Prop("client_secret");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or BadHttpRequestException)
        {
            return (null, null, null);
        }
        var basic = http.Request.Headers.Authorization.ToString();
        if (basic.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..].Trim()));
                var colon = pair.IndexOf(':');
                if (colon > 0) { id = Uri.UnescapeDataString(pair[..colon]); secret = Uri.UnescapeDataString(pair[(colon + 1)..]); }
            }
            catch (FormatException) { }
        }
        return (grant ?? "client_credentials", id, secret);
    }
}
