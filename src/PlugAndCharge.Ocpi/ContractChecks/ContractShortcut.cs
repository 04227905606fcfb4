using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.ContractChecks;

/// <summary>
/// Contract state and certificate status by EMAID. Declared here so the hub does not depend on how contracts are
/// stored; the server wires the contract service (and the PKI records) behind it.
/// </summary>
public interface IContractStatusSource
{
    ValueTask<ContractStatus> GetAsync(Emaid emaid, CancellationToken ct = default);
}

/// <summary>
/// The Plug &amp; Charge short-cut: a contract the hub knows to be unusable is answered without bothering the eMSP
/// (terminated contract, revoked or not yet valid certificate: BLOCKED; expired certificate: EXPIRED). Null: relay,
/// also for a contract of ours without a certificate, which only its eMSP can judge.
/// </summary>
public static class ContractShortcut
{
    public static (string Allowed, string Reason)? Decide(ContractStatus status) => status switch
    {
        { Known: false } => null,
        { State: ContractState.Terminated } => (AllowedType.Blocked, "The contract has been terminated."),
        { Certificate: ContractCertificateState.Revoked } => (AllowedType.Blocked, "The contract certificate has been revoked."),
        { Certificate: ContractCertificateState.Expired } => (AllowedType.Expired, "The contract certificate has expired."),
        { Certificate: ContractCertificateState.NotYetValid } => (AllowedType.Blocked, "The contract certificate is not yet valid."),
        _ => null,
    };
}
