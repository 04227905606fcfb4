using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi;

public static class OcpiHubServices
{
    /// <summary>
    /// The hub's services. The host registers the ports: <see cref="IOcpiPartyStore"/>, <see cref="IOcpiTokenStore"/>,
    /// <see cref="ICommandCallbackStore"/>, <see cref="IRoamingAgreementStore"/> (PostgreSQL, shared by the instances) and
    /// <see cref="IContractStatusSource"/> (contract provisioning); there is no in-memory fallback.
    /// </summary>
    public static IServiceCollection AddOcpiHub(this IServiceCollection services, Action<OcpiHubOptions>? configure = null)
    {
        var options = new OcpiHubOptions();
        configure?.Invoke(options);
        _ = options.PublicBaseUri; // fail at start-up, not on the first request, when the hub does not know its own URL
        // Polly checks these when a party's pipeline is first built, on its first call; check them at start-up instead.
        if (options.CircuitBreakerFailures is 1 or < 0 || (options.CircuitBreakerFailures > 0
                && (options.CircuitBreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || options.CircuitBreakerOpenTime < TimeSpan.FromMilliseconds(500))))
            throw new InvalidOperationException("OcpiHubOptions: CircuitBreakerFailures must be 0 (no breaker) or at least 2, and its sampling duration and open time at least 0.5 s.");
        if (options.MaxConcurrentCallsPerParty < 1) throw new InvalidOperationException("OcpiHubOptions.MaxConcurrentCallsPerParty must be at least 1.");
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RoamingAgreementBook>();
        // The recorded agreements decide, unless the host composed its own decision (a test's fixed policy).
        services.TryAddSingleton<IRoamingAgreements>(sp => sp.GetRequiredService<RoamingAgreementBook>());
        services.AddSingleton<RoamingAgreementAdministration>();
        services.AddSingleton<PartyDirectory>();
        services.AddSingleton<PartyClients>();
        PartyClients.Register(services, options);
        services.AddSingleton<HubIdentity>();
        services.AddSingleton<ClientInfoPublisher>();
        services.AddSingleton<PartyRegistration>();
        services.AddSingleton<PartyAdministration>();
        services.AddSingleton<TokenDistribution>();
        services.AddSingleton<AuthorizationRelay>();
        services.AddSingleton<HubContractAuthorization>();
        services.AddSingleton<CommandCallbacks>();
        services.AddSingleton<IHostedService, CommandCallbackSweeper>();
        services.AddSingleton<ModuleRouter>();
        services.AddSingleton<PartyLivenessMonitor>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<PartyLivenessMonitor>());
        return services;
    }

    /// <summary>
    /// The hub's location and tariff store (issue 24): locations and tariffs are kept and served by the hub instead of
    /// forwarded. The host registers its ports (<see cref="IHubObjectStore"/>, <see cref="IPushRetryStore"/>,
    /// <see cref="IPullSyncStore"/>, PostgreSQL); with them, <see cref="ModuleRouter"/> hands these modules to
    /// <see cref="HubStoreRouter"/>. Failed pushes are retried on every instance; one instance at a time polls.
    /// </summary>
    public static IServiceCollection AddOcpiLocationStore(this IServiceCollection services)
    {
        services.AddSingleton<StorePushes>();
        services.AddSingleton<HubStoreRouter>();
        services.AddSingleton<StorePoller>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<StorePoller>());
        services.AddSingleton<IHostedService, StorePushRetrier>();
        return services;
    }
}
