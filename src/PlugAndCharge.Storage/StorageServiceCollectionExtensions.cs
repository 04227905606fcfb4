using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Storage.Contracts;
using PlugAndCharge.Storage.Ocpi;
using PlugAndCharge.Storage.Ocpp;
using PlugAndCharge.Storage.Participants;

namespace PlugAndCharge.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// PostgreSQL behind the ports of the layers above: contract provisioning's stores, participants, OCPP stations and
    /// their presence across instances, the OCPI hub's parties, tokens, roaming agreements, pending command callbacks and location/tariff store, and how OCPP tells
    /// a station to retry when the database is away. The CA's stores are part of the CA the caller composed (AddPki).
    /// <paramref name="dataAtRestKey"/> encrypts the OCPI tokens B the hub stores.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, NpgsqlDataSource db, byte[] dataAtRestKey)
    {
        services.AddSingleton(db); // the caller owns it: registered as an instance, never disposed by the container
        services.AddSingleton(sp => new PostgresContractStores(db, sp.GetService<TimeProvider>()));
        services.AddSingleton<IRootCertificateStore>(sp => sp.GetRequiredService<PostgresContractStores>().Roots);
        services.AddSingleton<IProvisioningCertificateStore>(sp => sp.GetRequiredService<PostgresContractStores>().Vehicles);
        services.AddSingleton<IContractStore>(sp => sp.GetRequiredService<PostgresContractStores>().Contracts);
        services.AddSingleton<IWebhookStore>(sp => sp.GetRequiredService<PostgresContractStores>().Webhooks);
        services.AddSingleton<IParticipantStore>(sp => new PostgresParticipantStore(db, sp.GetService<TimeProvider>()));
        services.AddSingleton<IStationStore>(new PostgresStationStore(db));
        services.AddSingleton<PostgresStationPresence>();
        services.AddSingleton<IStationPresence>(sp => sp.GetRequiredService<PostgresStationPresence>());
        // A station whose call meets a database fault is told to retry in OCPP's own form (503 upgrade, CALLERROR, signed FAILED).
        services.AddSingleton(new StorageFaults(PostgresFaults.IsUnavailable));
        services.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(db, dataAtRestKey));
        services.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(db));
        services.AddSingleton<IRoamingAgreementStore>(sp => new PostgresRoamingAgreementStore(db, sp.GetService<TimeProvider>()));
        // Pending command callbacks are shared: the CPO's CommandResult may reach any instance.
        services.AddSingleton<ICommandCallbackStore>(new PostgresCommandCallbackStore(db));
        services.AddSingleton(new PostgresContractCertificateStatus(db));
        // The hub's location and tariff store with its push retries and pull state (issue 24).
        services.AddSingleton<IHubObjectStore>(sp => new PostgresHubObjectStore(db, sp.GetService<TimeProvider>()));
        services.AddSingleton<IPushRetryStore>(sp => new PostgresPushRetryStore(db, sp.GetService<TimeProvider>()));
        services.AddSingleton<IPullSyncStore>(sp => new PostgresPullSyncStore(db, sp.GetService<TimeProvider>()));
        return services;
    }
}
