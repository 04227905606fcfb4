namespace PlugAndCharge.Contracts.Contracts;

/// <summary>What authorization needs to know about a contract's certificate.</summary>
public enum ContractCertificateState { None, Valid, NotYetValid, Expired, Revoked }

/// <summary>
/// State of a contract for real-time authorization (OCPP Authorize, the OCPI hub): <see cref="Known"/> false for an
/// EMAID we never saw; otherwise the contract state and its certificate's validity and revocation.
/// </summary>
public sealed record ContractStatus(
    string Emaid,
    bool Known,
    ContractState? State,
    ContractCertificateState Certificate,
    DateTimeOffset? CertificateNotAfter,
    string? Pcid,
    string? EmspId)
{
    /// <summary>True when a charger may start on this contract: active and its certificate usable now.</summary>
    public bool IsAuthorizable => Known && State == ContractState.Active && Certificate == ContractCertificateState.Valid;

    public static ContractStatus Unknown(string emaid) => new(emaid, false, null, ContractCertificateState.None, null, null, null);
}
