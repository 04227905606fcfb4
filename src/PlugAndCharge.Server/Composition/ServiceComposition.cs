using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Ocpi;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpp;
using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.EvCertificates;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Server.Authentication;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.Server.Participants;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Ocpi;

namespace PlugAndCharge.Server.Composition;

/// <summary>
/// The one place the service is composed: each module describes its own services (AddPki, AddStorage, AddContracts,
/// AddOcpp, AddOcpiHub) and this wires them to each other through the ports they declare (the bridges in this folder),
/// with the participant API's authentication and the host's background work.
/// </summary>
public static class ServiceComposition
{
    public static IServiceCollection AddPlugAndCharge(this IServiceCollection services, ServiceHostOptions options, CertificateAuthorityServices ca,
        NpgsqlDataSource db, TimeProvider clock)
    {
        // OCPI credentials tokens travel only over HTTPS: an https base URL makes the hub answer 404 on the plain-HTTP listener.
        if (!Uri.TryCreate(options.OcpiPublicBaseUrl, UriKind.Absolute, out var ocpiBase) || ocpiBase.Scheme != Uri.UriSchemeHttps)
            throw new InvalidOperationException(
                $"ServiceHostOptions.OcpiPublicBaseUrl must be the public https URL of the OCPI root (e.g. https://hub.example.com/ocpi); it is '{options.OcpiPublicBaseUrl ?? "(not set)"}'.");
        var dataAtRestKey = options.ContractKeyEncryptionKey
            ?? throw new InvalidOperationException("ServiceHostOptions.ContractKeyEncryptionKey is required: it wraps contract keys and the OCPI tokens B the hub stores.");

        services.AddSingleton(clock);
        services.AddPki(ca);
        services.AddSingleton(sp => new CrlPublication(ca.Crls, ca.CaStore, ca.Certificates, clock));
        services.AddStorage(db, dataAtRestKey);

        // Contract provisioning, signing with the CPS leaves the host loaded.
        var signers = new CpsSignerDirectory();
        foreach (var signer in options.CpsSigners) signers.Add(signer);
        services.AddSingleton(signers);
        var contractOptions = new ContractOptions { KeyEncryptionKey = dataAtRestKey };
        if (options.SupersededContractCertificateGrace is { } grace) contractOptions.SupersededCertificateGrace = grace;
        services.AddContracts(contractOptions);
        services.AddSingleton(options.WebhookDispatch);
        services.AddWebhookHttpClient(options.WebhookDispatch, options.Outbound);
        services.AddHostedService<WebhookDispatchService>();

        // Participants: the operator's directory, OAuth tokens, mutual TLS and bearer authentication.
        services.AddSingleton<ParticipantDirectory>();
        services.AddSingleton(new AccessTokens(options.TokenSigningKey, clock, options.TokenLifetime));
        services.AddParticipantAuthentication();

        // OCPP for chargers and CSMSs, answered by contract provisioning and, for hub contracts, by the eMSP through the relay.
        services.AddSingleton<IEvCertificateService, ContractEvCertificateService>();
        services.AddSingleton<IContractAuthorization, ContractAuthorizationThroughHub>();
        // Several instances share the stations: each knows which instance holds a station's WebSocket and relays commands there.
        services.AddSingleton(options.StationPresence);
        services.AddHostedService<StationPresenceService>();
        services.AddOcpp(o =>
        {
            o.Outbound = options.Outbound;
            o.StationPasswordKey = options.StationPasswordKey
                ?? throw new InvalidOperationException("ServiceHostOptions.StationPasswordKey is required: station passwords are kept as keyed hashes under it.");
            options.ConfigureOcpp?.Invoke(o);
        });

        // The OCPI hub; what it knows of a contract comes from the registry, else from the CA's own records.
        services.AddSingleton<IContractStatusSource>(sp => new ContractStatusForHub(
            sp.GetRequiredService<PlugAndCharge.Contracts.Contracts.ContractRegistry>(), sp.GetRequiredService<PostgresContractCertificateStatus>()));
        services.AddOcpiHub(o =>
        {
            o.PublicBaseUrl = options.OcpiPublicBaseUrl;
            o.Outbound = options.Outbound;
            o.RoamingDefault = options.OcpiRoamingDefault;
        });
        services.AddOcpiLocationStore(); // locations and tariffs kept and served by the hub (PostgreSQL, AddStorage)
        return services;
    }
}
