using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PlugAndCharge.Core.Participants;

namespace PlugAndCharge.Server.Authentication;

/// <summary>OAuth2 bearer tokens (OPCP compatibility), scoped exactly like the participant's client certificates.</summary>
public sealed class BearerTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IParticipantStore participants, AccessTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var claims = tokens.Validate(header["Bearer ".Length..].Trim(), out var problem);
        if (claims == null) return AuthenticateResult.Fail(problem!);
        var found = await participants.FindCredentialAsync(CredentialKind.OAuthClient, claims.ClientId, Context.RequestAborted);
        if (found is not { } f || f.Participant.Id != claims.ParticipantId) return AuthenticateResult.Fail("The token's client is unknown.");
        if (f.Credential.RevokedAt != null) return AuthenticateResult.Fail("The token's client is revoked.");
        if (f.Participant.Disabled) return AuthenticateResult.Fail("The participant is disabled.");
        return AuthenticateResult.Success(new AuthenticationTicket(ParticipantPrincipal.Create(f.Participant, Scheme.Name, "oauth:" + claims.ClientId), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await ParticipantAuthentication.WriteProblemAsync(Context, 401, "Authentication required", failure ?? "A bearer token is required.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ParticipantAuthentication.WriteProblemAsync(Context, 403, "Forbidden", "Your participant role may not use this endpoint.");
}
