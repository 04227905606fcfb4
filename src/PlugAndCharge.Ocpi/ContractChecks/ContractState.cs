using System.Collections.Concurrent;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.ContractChecks;

/// <summary>What the hub knows of a contract from its own records.</summary>
public abstract record ContractState
{
    /// <summary>No contract and no contract certificate for this EMAID here: ask the eMSP.</summary>
    public sealed record Unknown : ContractState;

    /// <summary>A contract with a contract certificate (CN = EMAID): its validity and whether it was revoked.</summary>
    public sealed record Active(DateTimeOffset CertificateNotBefore, DateTimeOffset CertificateNotAfter, bool CertificateRevoked) : ContractState;

    /// <summary>The eMSP ended the contract.</summary>
    public sealed record Terminated(DateTimeOffset? At) : ContractState;

    public static ContractState None { get; } = new Unknown();
}

/// <summary>
/// Contract state and certificate status by EMAID. Declared here so the hub does not depend on how contracts are
/// stored; the server wires the contract service (and the PKI records) behind it.
/// </summary>
public interface IContractStatusSource
{
    ValueTask<ContractState> GetAsync(Emaid emaid, CancellationToken ct = default);
}

/// <summary>
/// The Plug &amp; Charge short-cut: a contract the hub knows to be unusable is answered without bothering the eMSP
/// (revoked certificate or terminated contract: BLOCKED; certificate outside its validity: EXPIRED). Null: relay.
/// </summary>
public static class ContractShortcut
{
    public static (string Allowed, string Reason)? Decide(ContractState state, DateTimeOffset now) => state switch
    {
        ContractState.Terminated => (AllowedType.Blocked, "The contract has been terminated."),
        ContractState.Active { CertificateRevoked: true } => (AllowedType.Blocked, "The contract certificate has been revoked."),
        ContractState.Active a when now >= a.CertificateNotAfter => (AllowedType.Expired, "The contract certificate has expired."),
        ContractState.Active a when now < a.CertificateNotBefore => (AllowedType.Blocked, "The contract certificate is not yet valid."),
        _ => null,
    };
}
