using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Ocpi;
using PlugAndCharge.Ocpi.Endpoints;
using PlugAndCharge.Ocpp;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Server.Authentication;
using PlugAndCharge.Server.Composition;
using PlugAndCharge.Server.Api;
using PlugAndCharge.Server.Api.ContractPool;
using PlugAndCharge.Server.Api.ContractManagement;
using PlugAndCharge.Server.Api.Cps;
using PlugAndCharge.Server.Api.Est;
using PlugAndCharge.Server.Api.Health;
using PlugAndCharge.Server.Api.OAuth;
using PlugAndCharge.Server.Api.OcpiAgreements;
using PlugAndCharge.Server.Api.Ocsp;
using PlugAndCharge.Server.Api.Participants;
using PlugAndCharge.Server.Api.ProvisioningPool;
using PlugAndCharge.Server.Api.Publication;
using PlugAndCharge.Server.Api.RootPool;
using PlugAndCharge.Server.Api.Stations;
using PlugAndCharge.Server.Api.Webhooks;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Server;

/// <summary>
/// The ASP.NET Core host on Kestrel: public HTTP for revocation services and health, HTTPS with optional client
/// certificates for participants, problem details for every refusal, an OpenAPI document at /openapi/v1.json. The
/// services come from one place (<see cref="Composition.ServiceComposition"/>); this file is the web host and its routes.
/// </summary>
public static class ServiceHost
{
    public static WebApplication Build(ServiceHostOptions options, CertificateAuthorityServices ca, NpgsqlDataSource db, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            foreach (var url in options.HttpUrls) k.Listen(Endpoint(url), _ => { });
            if (options.ServerCertificate is { } cert)
                foreach (var url in options.HttpsUrls)
                    k.Listen(Endpoint(url), l => l.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = cert,
                        // Participants may come with a client certificate or a bearer token; the authentication handler
                        // decides and explains a refusal as a 401 rather than a failed handshake.
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        ClientCertificateValidation = (_, _, _) => true,
                        // TLS builds the client's chain before that callback, and by default fetches missing issuers from
                        // the certificate's AIA URL, synchronously, on a thread-pool thread, during the handshake: a URL the
                        // client chose, and under load (the fault suite's HAProxy front) threads blocked on those downloads
                        // starved the service. Our authentication matches certificates itself; never download here.
                        OnAuthenticate = (_, ssl) =>
                        {
                            ssl.CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
                            {
                                DisableCertificateDownloads = true,
                                RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                            };
                            // Reconnecting stations and participants resume their TLS session (an abbreviated handshake,
                            // no signature). A resumed session carries the client certificate of the full handshake, and
                            // the station and participant checks run on every request as for a full handshake
                            // (Ocpp.Tests/Security/TlsResumptionAttackTests). The tickets' keys live in this process only.
                            ssl.AllowTlsResume = true;
                        },
                    }).Use(next => connection =>
                    {
                        // Idle connections (tens of thousands of stations) give their TLS record buffers back (Hosting/TlsRecordBuffers).
                        TlsRecordBuffers.ReleaseWhenIdle(connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream);
                        return next(connection);
                    }));
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // Hosting's request log (Information) is not written at the service's levels, but while that category is enabled
        // at all, ASP.NET Core starts an Activity and a log scope for every request and keeps them for a WebSocket's
        // life, one of each per connected station. A tracing listener (ActivitySource) still gets its activities.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Problems.Handler>();
        builder.Services.AddOpenApi();
        builder.Services.AddPlugAndCharge(options, ca, db, clock);

        var app = builder.Build();
        // Kestrel's walk over every connection, every second, is most of what a connected fleet costs at rest (Hosting/KestrelHeartbeat).
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (options.KestrelHeartbeatInterval != TimeSpan.FromSeconds(1) && app.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>() is { } server
                && !KestrelHeartbeat.TrySetInterval(server, options.KestrelHeartbeatInterval))
                app.Logger.LogWarning("Kestrel's heartbeat could not be set to {Interval}; it walks the connections every second.", options.KestrelHeartbeatInterval);
        });
        // A database that stops answering costs fast 503s, not hung requests (Storage/DatabaseReachability).
        var reachability = PlugAndCharge.Storage.DatabaseReachability.Watch(db, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<PlugAndCharge.Storage.DatabaseReachability>());
        app.Lifetime.ApplicationStopped.Register(() => reachability.DisposeAsync().AsTask().GetAwaiter().GetResult());
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.Use(RequireHttpsForParticipants);
        app.UseAuthorization();
        app.UseWebSockets();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthEndpoints();
        app.MapPkiPublicationEndpoints();
        app.MapOcspEndpoints(ca, clock);
        app.MapOAuthEndpoints();
        app.MapParticipantEndpoints();
        app.MapEstEndpoints();
        app.MapContractCertificatePoolEndpoints();
        app.MapRootCertificatePoolEndpoints();
        app.MapProvisioningCertificatePoolEndpoints();
        app.MapContractManagementEndpoints();
        app.MapCpsEndpoints();
        app.MapWebhookApiEndpoints();
        app.MapOcppEndpoints();
        app.MapStationEndpoints();
        app.MapOcpiEndpoints();
        app.MapOcpiOperatorEndpoints().RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("OCPI hub operator")
            .ProducesProblems(ApiConventions.ParticipantProblems);
        app.MapOcpiAgreementEndpoints();
        return app;
    }

    /// <summary>Credentials never travel over plain HTTP: an endpoint that needs a participant answers 403 there.</summary>
    private static Task RequireHttpsForParticipants(HttpContext http, RequestDelegate next)
    {
        var needsAuth = http.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() != null || http.Request.Path.StartsWithSegments("/oauth");
        if (needsAuth && !http.Request.IsHttps)
        {
            http.Response.StatusCode = 403;
            return Results.Problem(statusCode: 403, title: "HTTPS required", detail: "Participant endpoints are served over HTTPS only.").ExecuteAsync(http);
        }
        return next(http);
    }

    private static IPEndPoint Endpoint(string url)
    {
        var uri = new Uri(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"));
        var ip = uri.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(uri.Host);
        return new IPEndPoint(ip, uri.Port);
    }
}
