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
using PlugAndCharge.Server.Endpoints;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Server.Revocation;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Server;

/// <summary>
/// The ASP.NET Core host on Kestrel: public HTTP for revocation services and health, HTTPS with optional client
/// certificates for participants, problem details for every refusal, an OpenAPI document at /openapi/v1.json.
/// </summary>
public static class ServiceHost
{
    private static PlugAndCharge.Contracts.ContractOptions ContractOptionsOf(ServiceHostOptions options)
    {
        var contract = new PlugAndCharge.Contracts.ContractOptions { KeyEncryptionKey = options.ContractKeyEncryptionKey };
        if (options.SupersededContractCertificateGrace is { } grace) contract.SupersededCertificateGrace = grace;
        return contract;
    }

    public static WebApplication Build(ServiceHostOptions options, CertificateAuthorityServices ca, NpgsqlDataSource db, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var contractStore = new PlugAndCharge.Storage.Contracts.PostgresContractStore(db, clock);
        var contracts = PlugAndCharge.Storage.Contracts.ContractDatabase.Compose(ca, contractStore,
            ContractOptionsOf(options), clock);
        foreach (var signer in options.CpsSigners) contracts.Signers.Add(signer);
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
                        OnAuthenticate = (_, ssl) => ssl.CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
                        {
                            DisableCertificateDownloads = true,
                            RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                        },
                    }));
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<Problems.Handler>();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(ca);
        // Registered as instances: the caller composed the CA and owns its stores, so this host's shutdown must not dispose them.
        builder.Services.AddSingleton(ca.CaStore);
        builder.Services.AddSingleton(ca.Certificates);
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton(new ChainValidator());
        builder.Services.AddSingleton<IParticipantStore>(new PostgresParticipantStore(db, clock));
        builder.Services.AddSingleton<ParticipantDirectory>();
        builder.Services.AddSingleton(new AccessTokens(options.TokenSigningKey, clock, options.TokenLifetime));
        builder.Services.AddParticipantAuthentication();

        builder.Services.AddSingleton(contracts);
        builder.Services.AddSingleton(options.WebhookDispatch);
        builder.Services.AddWebhookHttpClient(options.WebhookDispatch, options.Outbound);
        builder.Services.AddHostedService<WebhookDispatchService>();
        builder.Services.AddSingleton<PlugAndCharge.Ocpp.EvCertificates.IEvCertificateService, PlugAndCharge.Server.Composition.ContractEvCertificateService>();
        builder.Services.AddSingleton<PlugAndCharge.Ocpp.Authorization.IContractAuthorization, PlugAndCharge.Server.Composition.ContractAuthorizationThroughHub>();

        // OCPP for chargers and CSMSs (stations authenticate themselves: profile 2 basic auth or profile 3 mTLS).
        builder.Services.AddSingleton<PlugAndCharge.Ocpp.Stations.IStationStore>(new PlugAndCharge.Storage.Ocpp.PostgresStationStore(db));
        // Several instances share the stations: each knows which instance holds a station's WebSocket and relays commands there.
        builder.Services.AddSingleton(options.StationPresence);
        builder.Services.AddSingleton<PlugAndCharge.Storage.Ocpp.PostgresStationPresence>();
        builder.Services.AddSingleton<IStationPresence>(sp => sp.GetRequiredService<PlugAndCharge.Storage.Ocpp.PostgresStationPresence>());
        builder.Services.AddHostedService<StationPresenceService>();
        // A station whose call meets a database fault is told to retry in OCPP's own form (503 upgrade, CALLERROR, signed FAILED).
        builder.Services.AddSingleton(new PlugAndCharge.Ocpp.Transport.StorageFaults(PlugAndCharge.Storage.PostgresFaults.IsUnavailable));
        builder.Services.AddOcpp(o => o.Outbound = options.Outbound);
        // The OCPI hub (parties authenticate with OCPI credentials tokens).
        builder.Services.AddSingleton<PlugAndCharge.Ocpi.Parties.IOcpiPartyStore>(new PlugAndCharge.Storage.Ocpi.PostgresOcpiPartyStore(db,
            options.ContractKeyEncryptionKey ?? throw new InvalidOperationException("ServiceHostOptions.ContractKeyEncryptionKey is required: it also encrypts the OCPI tokens B the hub stores.")));
        builder.Services.AddSingleton<PlugAndCharge.Ocpi.Tokens.IOcpiTokenStore>(new PlugAndCharge.Storage.Ocpi.PostgresOcpiTokenStore(db));
        // Pending command callbacks are shared: the CPO's CommandResult may reach any instance.
        builder.Services.AddSingleton<PlugAndCharge.Ocpi.Routing.ICommandCallbackStore>(new PlugAndCharge.Storage.Ocpi.PostgresCommandCallbackStore(db));
        builder.Services.AddSingleton<PlugAndCharge.Ocpi.ContractChecks.IContractStatusSource>(
            new PlugAndCharge.Server.Composition.ContractStatusForHub(contracts, new PlugAndCharge.Storage.Ocpi.PostgresContractCertificateStatus(db)));
        // OCPI credentials tokens travel only over HTTPS: an https base URL makes the hub answer 404 on the plain-HTTP listener.
        if (!Uri.TryCreate(options.OcpiPublicBaseUrl, UriKind.Absolute, out var ocpiBase) || ocpiBase.Scheme != Uri.UriSchemeHttps)
            throw new InvalidOperationException(
                $"ServiceHostOptions.OcpiPublicBaseUrl must be the public https URL of the OCPI root (e.g. https://hub.example.com/ocpi); it is '{options.OcpiPublicBaseUrl ?? "(not set)"}'.");
        builder.Services.AddOcpiHub(o =>
        {
            o.PublicBaseUrl = options.OcpiPublicBaseUrl;
            o.Outbound = options.Outbound;
        });

        var app = builder.Build();
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
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" })).WithTags("Health");
        app.MapGet("/health/ready", async (CancellationToken ct) =>
        {
            try
            {
                await using var cmd = db.CreateCommand("select 1");
                await cmd.ExecuteScalarAsync(ct);
                return Results.Ok(new { status = "ready" });
            }
            catch (NpgsqlException)
            {
                return Results.Problem(statusCode: 503, title: "Database unavailable");
            }
        }).WithTags("Health");
        app.MapPkiPublicationEndpoints(ca, clock);
        app.MapOcspEndpoints(ca, clock);
        app.MapOAuthEndpoints();
        app.MapParticipantEndpoints();
        app.MapEstEndpoints();
        app.MapContractEndpoints();
        app.MapRootCertificatePoolEndpoints();
        app.MapProvisioningCertificatePoolEndpoints();
        app.MapContractManagementEndpoints();
        app.MapCpsEndpoints();
        app.MapWebhookApiEndpoints();
        app.Lifetime.ApplicationStopped.Register(() => contractStore.DisposeAsync().AsTask().GetAwaiter().GetResult());
        app.MapOcppEndpoints();
        app.MapStationEndpoints();
        app.MapOcpiEndpoints();
        app.MapOcpiOperatorEndpoints().RequireAuthorization(ParticipantAuthentication.Policies.Admin).WithTags("OCPI hub operator");
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
