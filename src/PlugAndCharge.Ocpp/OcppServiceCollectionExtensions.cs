using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.EvCertificates;
using PlugAndCharge.Ocpp.Handlers;
using PlugAndCharge.Ocpp.Operator;
using PlugAndCharge.Ocpp.Signing;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Ocpp;

public static class OcppServiceCollectionExtensions
{
    /// <summary>
    /// The OCPP certificate service. The host registers an <see cref="Stations.IStationStore"/> and the
    /// <see cref="CertificateAuthorityServices"/>; it may register its own <see cref="IEvCertificateService"/> (contract
    /// provisioning), <see cref="IContractAuthorization"/> and <see cref="ICertificateSigningService"/> before or after
    /// this call, and an <see cref="IStationPresence"/> when several instances share the stations; the defaults refuse EV certificate requests, know no contract, and sign CSRs with our CPO sub-CA.
    /// </summary>
    public static IServiceCollection AddOcpp(this IServiceCollection services, Action<OcppOptions>? configure = null, Action<StationCertificateOptions>? configureSigning = null)
    {
        var options = new OcppOptions();
        configure?.Invoke(options);
        var signing = new StationCertificateOptions();
        configureSigning?.Invoke(signing);
        services.AddSingleton(options);
        services.AddSingleton(signing);
        services.TryAddSingleton(TimeProvider.System);

        // The CA's parts, as the host composed them.
        services.TryAddSingleton(sp => sp.GetRequiredService<CertificateAuthorityServices>().Options);
        services.TryAddSingleton(sp => sp.GetRequiredService<CertificateAuthorityServices>().CaStore);
        services.TryAddSingleton(sp => sp.GetRequiredService<CertificateAuthorityServices>().Certificates);
        services.TryAddSingleton<ChainValidator>();

        services.AddSingleton(OcppSchemaCatalog.Official);
        services.AddSingleton<OurCertificateAuthorities>();
        services.AddSingleton<OwnRevocationRecords>();
        services.TryAddSingleton<IOcspTransport, HttpOcspTransport>();
        HttpOcspTransport.Register(services, options);
        services.AddSingleton<CertificateStatusService>();
        services.AddSingleton<ParsedChainCache>();
        services.AddSingleton<ContractAuthorizer>();
        services.TryAddSingleton<IContractAuthorization, InMemoryContractAuthorization>();
        services.TryAddSingleton<IEvCertificateService, UnavailableEvCertificateService>();
        services.TryAddSingleton<ICertificateSigningService, CaCertificateSigningService>();
        services.AddSingleton<CertificateSignedDelivery>();

        services.TryAddSingleton<IStationPresence, LocalStationPresence>();
        services.AddSingleton(sp => new ConnectedStations(sp.GetRequiredService<IStationPresence>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<ConnectedStations>>()) { DefaultCallTimeout = options.CallTimeout });
        services.TryAddSingleton(new StorageFaults()); // the host may register its storage's classification first
        services.AddSingleton<Stations.StationThrottle>();
        services.AddSingleton<StationAuthenticator>();
        services.AddSingleton<StationConnectionEndpoint>();
        services.AddSingleton<StationCertificateCommands>();

        services.AddSingleton<IOcppHandlerModule, CoreMessages>();
        services.AddSingleton<IOcppHandlerModule, AuthorizeMessages>();
        services.AddSingleton<IOcppHandlerModule, EvCertificateMessages>();
        services.AddSingleton<IOcppHandlerModule, CertificateStatusMessages>();
        services.AddSingleton<IOcppHandlerModule, SignCertificateMessages>();
        services.AddSingleton<IOcppHandlerModule, PncDataTransferMessages>();
        services.AddSingleton<OcppDispatcher>();
        return services;
    }
}
