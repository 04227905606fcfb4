using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Core.Participants;

namespace PlugAndCharge.Server.Authentication;

/// <summary>
/// Participants authenticate with a client certificate (mutual TLS) or an OAuth2 bearer token; one policy scheme picks
/// the handler per request. Authorization policies are per role; identity scope is checked by each endpoint.
/// </summary>
public static class ParticipantAuthentication
{
    public const string Scheme = "participant";
    public const string CertificateScheme = "client-certificate";
    public const string BearerScheme = "bearer";

    public static class Policies
    {
        public const string AnyParticipant = "participant";
        public const string Admin = "admin";
        public const string Oem = "oem";
        public const string Emsp = "emsp";
        public const string Cpo = "cpo";
    }

    public static IServiceCollection AddParticipantAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "certificate or bearer token", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? BearerScheme : CertificateScheme)
            .AddScheme<AuthenticationSchemeOptions, ClientCertificateAuthenticationHandler>(CertificateScheme, null)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenAuthenticationHandler>(BearerScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.AnyParticipant, p => p.RequireAuthenticatedUser())
            .AddPolicy(Policies.Admin, p => p.RequireRole(nameof(ParticipantRole.Admin)))
            // The hub operator may act for any participant; the endpoint's scope check still names whose data it is.
            .AddPolicy(Policies.Oem, p => p.RequireRole(nameof(ParticipantRole.Oem), nameof(ParticipantRole.Admin)))
            .AddPolicy(Policies.Emsp, p => p.RequireRole(nameof(ParticipantRole.Emsp), nameof(ParticipantRole.Admin)))
            .AddPolicy(Policies.Cpo, p => p.RequireRole(nameof(ParticipantRole.Cpo), nameof(ParticipantRole.Admin)));
        return services;
    }

    /// <summary>401/403 as problem details with the reason, so a participant sees why it was refused.</summary>
    internal static Task WriteProblemAsync(HttpContext context, int status, string title, string? detail)
    {
        context.Response.StatusCode = status;
        if (status == 401) context.Response.Headers.WWWAuthenticate = "Bearer, ClientCertificate";
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }
}
