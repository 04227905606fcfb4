using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts;

/// <summary>
/// Contract provisioning wired over one set of stores and the CA (what a host or the CLI composes). Each property is a
/// service an endpoint calls one-to-one: pools (RCP, PCP), contracts (bind, issue, terminate, status), CPS signing of
/// eMSP data, -2 and -20 installation, webhooks.
/// </summary>
public sealed class ContractServices
{
    public CertificateAuthorityServices Ca { get; }
    public ContractOptions Options { get; }
    public IRootCertificateStore RootStore { get; }
    public IProvisioningCertificateStore VehicleStore { get; }
    public IContractStore ContractStore { get; }
    public IWebhookStore WebhookStore { get; }
    public ChainValidator Validator { get; }
    public ParsedCertificates Parsed { get; }
    public ContractKeyProtector KeyProtector { get; }
    public RootCertificatePool Roots { get; }
    public ProvisioningCertificatePool Vehicles { get; }
    public ContractCertificateIssuer ContractCertificates { get; }
    public ContractRegistry Contracts { get; }
    public CpsSignerDirectory Signers { get; }
    public InstallationPipeline Installation { get; }
    public ContractDataSigningService ContractDataSigning { get; }
    public WebhookEndpoints Webhooks { get; }

    public ContractServices(CertificateAuthorityServices ca, IRootCertificateStore roots, IProvisioningCertificateStore vehicles, IContractStore contracts,
        IWebhookStore webhooks, ContractOptions options, TimeProvider? clock = null, ChainValidator? validator = null)
    {
        clock ??= TimeProvider.System;
        Ca = ca; Options = options; RootStore = roots; VehicleStore = vehicles; ContractStore = contracts; WebhookStore = webhooks;
        Validator = validator ?? new ChainValidator();
        Parsed = new ParsedCertificates();
        KeyProtector = new ContractKeyProtector(options.KeyEncryptionKey);
        Roots = new RootCertificatePool(roots, options, clock);
        Vehicles = new ProvisioningCertificatePool(vehicles, contracts, Roots, Validator, ca.Revoker, clock);
        ContractCertificates = new ContractCertificateIssuer(ca.Issuer, KeyProtector, options);
        Contracts = new ContractRegistry(contracts, vehicles, ContractCertificates, ca.Revoker, ca.Certificates, options, clock);
        Signers = new CpsSignerDirectory();
        Installation = new InstallationPipeline(contracts, Roots, Validator, Signers, Contracts, Parsed, clock, options);
        ContractDataSigning = new ContractDataSigningService(contracts, vehicles, Signers, Contracts, Installation, clock);
        Webhooks = new WebhookEndpoints(webhooks, KeyProtector, clock);
    }

    /// <summary>
    /// A car's CertificateInstallationReq / CertificateUpdateReq as CSMSs forward it (OPCP CCP, OCPP
    /// Get15118EVCertificate), routed by its message-definition namespace. Never throws for the message itself: the
    /// outcome always carries a complete EXI response; an unknown namespace is a ContractException (Malformed).
    /// </summary>
    public Task<InstallationOutcome> AnswerAsync(byte[] exi, string? xsdMsgDefNamespace, InstallationWishes? wishes = null, CancellationToken ct = default) =>
        Installation.AnswerAsync(IsoStandards.FromNamespace(xsdMsgDefNamespace), exi, wishes, ct);

    /// <summary>Everything in memory (tests, benchmarks, the demo), over an in-memory CA.</summary>
    public static ContractServices InMemory(CertificateAuthorityServices ca, ContractOptions options, TimeProvider? clock = null)
    {
        var stores = new InMemoryContractStores(ca.Audit, ca.Certificates);
        return new ContractServices(ca, stores.Roots, stores.Vehicles, stores.Contracts, stores.Webhooks, options, clock);
    }
}
