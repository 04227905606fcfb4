namespace PlugAndCharge.Contracts;

/// <summary>Named failures of the pools and contracts, so an endpoint maps each to one ProblemDetails status.</summary>
public enum ContractError
{
    /// <summary>Input that cannot be read (bad base64, DER, EMAID, PCID): 400.</summary>
    Malformed,
    /// <summary>No such root certificate: 404.</summary>
    UnknownRoot,
    /// <summary>No provisioning certificate for this PCID: 404.</summary>
    UnknownVehicle,
    /// <summary>No contract for this EMAID (or PCID): 404.</summary>
    UnknownContract,
    /// <summary>No such webhook endpoint: 404.</summary>
    UnknownWebhookEndpoint,
    /// <summary>The thing exists already (same root, an active contract with this EMAID): 409.</summary>
    AlreadyExists,
    /// <summary>The caller does not own the object (another OEM's vehicle, another eMSP's contract): 403.</summary>
    NotOwner,
    /// <summary>The PCID's WMI is not one of the OEM's: 403.</summary>
    WmiNotAllowed,
    /// <summary>The EMAID's country + provider ID is not one of the eMSP's: 403.</summary>
    ProviderNotAllowed,
    /// <summary>A certificate does not chain to a registered root under ISO 15118 rules: 422.</summary>
    ChainInvalid,
    /// <summary>A certificate's content breaks the profile it must follow (CN not a PCID, not an EMAID, wrong key): 422.</summary>
    ProfileViolation,
    /// <summary>The contract was terminated: 409 (or 410).</summary>
    ContractTerminated,
    /// <summary>Another eMSP's contract is the vehicle's default; only the vehicle's OEM may change that: 409.</summary>
    DefaultHeldByOther,
    /// <summary>No CPS signer can sign for the requested V2G root: 422.</summary>
    NoCpsSigner,
    /// <summary>The configuration lacks the key-encryption key for contract keys: 500/503.</summary>
    KeyEncryptionKeyMissing,
}

public sealed class ContractException(ContractError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public ContractError Error { get; } = error;
}
