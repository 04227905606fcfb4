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
    /// The OCPP certificate service. The host registers the ports it serves: an <see cref="Stations.IStationStore"/>,
    /// <see cref="IEvCertificateService"/> (contract provisioning) and <see cref="IContractAuthorization"/>, and the CA's
    /// parts (AddPki); there is no fallback, so a host that forgets one fails at start. It may register its own
    /// <see cref="ICertificateSigningService"/> and an <see cref="IStationPresence"/> when several instances share the
    /// stations; the defaults sign CSRs with our CPO sub-CA and keep presence in this process.
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

        services.TryAddSingleton<ChainValidator>();

        services.AddSingleton(OcppSchemaCatalog.Official);
        services.AddSingleton<OurCertificateAuthorities>();
        services.AddSingleton<OwnRevocationRecords>();
        services.TryAddSingleton<IOcspTransport, HttpOcspTransport>();
        HttpOcspTransport.Register(services, options);
        services.AddSingleton<CertificateStatusService>();
        services.AddSingleton<ParsedChainCache>();
        services.AddSingleton<ContractAuthorizer>();
        services.TryAddSingleton<ICertificateSigningService, CaCertificateSigningService>();
        services.AddSingleton<CertificateSignedDelivery>();

        services.TryAddSingleton<IStationPresence, LocalStationPresence>();
        services.AddSingleton(sp => new ConnectedStations(sp.GetRequiredService<IStationPresence>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<ConnectedStations>>()) { DefaultCallTimeout = options.CallTimeout });
        services.TryAddSingleton(new StorageFaults()); // the host may register its storage's classification first
        services.AddSingleton<Stations.StationThrottle>();
        services.AddSingleton(sp => new Stations.StationPasswords(
            new Stations.StationPasswordKey(options.StationPasswordKey ?? throw new InvalidOperationException("OcppOptions.StationPasswordKey is required: the keyed records of station passwords are made under it.")),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StationAuthenticator>();
        services.AddSingleton<StationConnectionEndpoint>();
        services.AddHostedService<SilentStationSweeper>();
        services.AddSingleton<StationCertificateCommands>();
        services.AddSingleton<StationPasswordCommands>();

        services.AddSingleton<BootAdmission>();
        services.AddSingleton<IOcppHandlerModule, CoreHandlers>();
        services.AddSingleton<IOcppHandlerModule, AuthorizeHandler>();
        services.AddSingleton<IOcppHandlerModule, EvCertificateHandlers>();
        services.AddSingleton<IOcppHandlerModule, CertificateStatusHandlers>();
        services.AddSingleton<IOcppHandlerModule, SignCertificateHandler>();
        services.AddSingleton<IOcppHandlerModule, PncDataTransferHandler>();
        services.AddSingleton<OcppDispatcher>();
        return services;
    }
}
