using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Pki;

public static class PkiServiceCollectionExtensions
{
    /// <summary>
    /// The CA, composed over the host's stores and keys before the host starts (the CLI's offline verbs use the same
    /// composition), offered part by part: each consumer asks for the part it uses (the issuer, the revoker, the CA
    /// store ...), never for the whole. Registered as instances: the caller owns them, so the host's shutdown does not
    /// dispose its keys or stores.
    /// </summary>
    public static IServiceCollection AddPki(this IServiceCollection services, CertificateAuthorityServices ca)
    {
        services.AddSingleton(ca.Options);
        services.AddSingleton(ca.Profiles);
        services.AddSingleton(ca.CaStore);
        services.AddSingleton(ca.Certificates);
        services.AddSingleton(ca.Audit);
        services.AddSingleton(ca.Keys);
        services.AddSingleton(ca.Authorities);
        services.AddSingleton(ca.Issuer);
        services.AddSingleton(ca.Hierarchy);
        services.AddSingleton(ca.Revoker);
        services.AddSingleton(ca.Crls);
        services.TryAddSingleton<ChainValidator>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
