using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Authentication;

/// <summary>
/// Mutual TLS for participants (what Microsoft.AspNetCore.Authentication.Certificate would do, which is not available
/// here): the TLS client certificate must be registered to a participant by SHA-256 fingerprint, be inside its validity,
/// and, when our participant CA issued it, chain to that CA with clientAuth and not be revoked in our own records.
/// Kestrel accepts any client certificate at the handshake so that the refusal is a readable 401 here.
/// </summary>
public sealed class ClientCertificateAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IParticipantStore participants, ICertificateAuthorityStore cas, ICertificateStore certificates, ChainValidator validator, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Context.Connection.ClientCertificate;
        if (presented == null) return AuthenticateResult.NoResult();
        var now = clock.GetUtcNow();
        if (now < presented.NotBefore.ToUniversalTime() || now > presented.NotAfter.ToUniversalTime())
            return AuthenticateResult.Fail("The client certificate is expired or not yet valid.");

        var fingerprint = ParticipantDirectory.Fingerprint(presented.RawData);
        var found = await participants.FindCredentialAsync(CredentialKind.ClientCertificate, fingerprint, Context.RequestAborted);
        if (found is not { } f) return AuthenticateResult.Fail("The client certificate is not registered to a participant.");
        if (f.Credential.RevokedAt != null) return AuthenticateResult.Fail("The client certificate's registration is revoked.");
        if (f.Participant.Disabled) return AuthenticateResult.Fail("The participant is disabled.");

        if (f.Credential is { IssuerId: { } issuerId, Serial: { } serial })
        {
            var issuer = await cas.GetAsync(issuerId, Context.RequestAborted);
            if (issuer == null) return AuthenticateResult.Fail("The client certificate's issuer is unknown.");
            var result = validator.Validate(new ChainValidationRequest
            {
                Leaf = CertificateReader.ReadCertificate(presented.RawData),
                TrustAnchors = [CertificateReader.ReadCertificate(issuer.CertificateDer)],
                At = now,
                RequiredExtendedKeyUsages = [ClientAuth],
            });
            if (!result.IsValid) return AuthenticateResult.Fail($"The client certificate does not validate: {result.Reason} ({result.Detail}).");
            var record = await certificates.GetAsync(issuerId, serial, Context.RequestAborted);
            if (record == null || record.Status != CertificateStatus.Valid)
                return AuthenticateResult.Fail("The client certificate is revoked.");
        }
        return AuthenticateResult.Success(new AuthenticationTicket(ParticipantPrincipal.Create(f.Participant, Scheme.Name, "certificate:" + fingerprint), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await ParticipantAuthentication.WriteProblemAsync(Context, 401, "Authentication required",
            failure ?? "Present a registered client certificate (mutual TLS) or an OAuth2 bearer token from POST /oauth/token.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ParticipantAuthentication.WriteProblemAsync(Context, 403, "Forbidden", "Your participant role may not use this endpoint.");
}
