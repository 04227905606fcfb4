using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.TestSupport;

/// <summary>
/// Contract provisioning for tests and benchmarks that call its services directly: composed with the production
/// modules (AddPki, AddContracts) over the stores given, so a test exercises the wiring the host uses; each property is
/// one service as the container built it.
/// </summary>
public sealed class ContractServices
{
    private readonly IServiceProvider _services;
    private readonly CertificateAuthorityServices? _ca;

    public CertificateAuthorityServices Ca => _ca ?? throw new InvalidOperationException("A host's contract services are not composed over one CA object.");
    public ContractOptions Options => Get<ContractOptions>();
    public IRootCertificateStore RootStore => Get<IRootCertificateStore>();
    public IProvisioningCertificateStore VehicleStore => Get<IProvisioningCertificateStore>();
    public IContractStore ContractStore => Get<IContractStore>();
    public IWebhookStore WebhookStore => Get<IWebhookStore>();
    public ChainValidator Validator => Get<ChainValidator>();
    public ParsedCertificates Parsed => Get<ParsedCertificates>();
    public ContractKeyProtector KeyProtector => Get<ContractKeyProtector>();
    public RootCertificatePool Roots => Get<RootCertificatePool>();
    public ProvisioningCertificatePool Vehicles => Get<ProvisioningCertificatePool>();
    public ContractCertificateIssuer ContractCertificates => Get<ContractCertificateIssuer>();
    public ContractRegistry Contracts => Get<ContractRegistry>();
    public CpsSignerDirectory Signers => Get<CpsSignerDirectory>();
    public InstallationPipeline Installation => Get<InstallationPipeline>();
    public ContractDataSigningService ContractDataSigning => Get<ContractDataSigningService>();
    public WebhookEndpoints Webhooks => Get<WebhookEndpoints>();

    public ContractServices(CertificateAuthorityServices ca, IRootCertificateStore roots, IProvisioningCertificateStore vehicles, IContractStore contracts,
        IWebhookStore webhooks, ContractOptions options, TimeProvider? clock = null, ChainValidator? validator = null)
    {
        _ca = ca;
        var services = new ServiceCollection();
        services.AddSingleton(clock ?? TimeProvider.System);
        if (validator != null) services.AddSingleton(validator);
        services.AddPki(ca);
        services.AddSingleton(roots);
        services.AddSingleton(vehicles);
        services.AddSingleton(contracts);
        services.AddSingleton(webhooks);
        services.AddContracts(options);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private ContractServices(IServiceProvider host) => _services = host;

    /// <summary>The contract services a running host composed (ServiceHost), to set up what a test needs through them.</summary>
    public static ContractServices Of(IServiceProvider host) => new(host);

    private T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A car's request routed by its message-definition namespace, as the CCP endpoint and OCPP do.</summary>
    public Task<InstallationOutcome> AnswerAsync(byte[] exi, string? xsdMsgDefNamespace, InstallationWishes? wishes = null, CancellationToken ct = default) =>
        Installation.AnswerAsync(IsoStandards.FromNamespace(xsdMsgDefNamespace), exi, wishes, ct);

    /// <summary>Everything in memory (tests, benchmarks), over an in-memory CA.</summary>
    public static ContractServices InMemory(CertificateAuthorityServices ca, ContractOptions options, TimeProvider? clock = null)
    {
        var stores = new InMemoryContractStores(ca.Audit, ca.Certificates);
        return new ContractServices(ca, stores.Roots, stores.Vehicles, stores.Contracts, stores.Webhooks, options, clock);
    }
}
