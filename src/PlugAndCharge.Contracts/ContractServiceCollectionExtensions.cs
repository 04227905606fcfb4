using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts;

public static class ContractServiceCollectionExtensions
{
    /// <summary>
    /// Contract provisioning: the pools (RCP, PCP), the contract registry and its certificates, the installation pipeline
    /// for ISO 15118-2 and -20, CPS signing of eMSP data and webhook endpoints. The host registers the stores
    /// (<see cref="Stores.IRootCertificateStore"/>, <see cref="Stores.IProvisioningCertificateStore"/>,
    /// <see cref="Stores.IContractStore"/>, <see cref="Stores.IWebhookStore"/>: AddStorage, or in memory for tests) and the
    /// CA's parts (AddPki); the CPS signers are added to <see cref="CpsSignerDirectory"/> once they are loaded.
    /// </summary>
    public static IServiceCollection AddContracts(this IServiceCollection services, ContractOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ChainValidator>();
        services.AddSingleton(new ContractKeyProtector(options.KeyEncryptionKey));
        services.AddSingleton<ParsedCertificates>();
        services.AddSingleton<RootCertificatePool>();
        services.AddSingleton<ProvisioningCertificatePool>();
        services.AddSingleton<ContractCertificateIssuer>();
        services.AddSingleton<ContractRegistry>();
        services.TryAddSingleton<CpsSignerDirectory>(); // a host that loaded its CPS signers registers the directory first
        services.AddSingleton<InstallationPipeline>();
        services.AddSingleton<ContractDataSigningService>();
        services.AddSingleton<WebhookEndpoints>();
        return services;
    }
}
