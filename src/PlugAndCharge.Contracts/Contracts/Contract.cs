using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Contracts.Contracts;

public enum ContractState { Active, Terminated }

/// <summary>Who made the contract certificate: this hub's MO sub-CA, or the eMSP's own MO CA (we only sign the data as CPS).</summary>
public enum ContractOrigin { HubIssued, EmspSigned }

/// <summary>
/// A contract certificate of a contract. For <see cref="ContractOrigin.HubIssued"/> the private key is held only wrapped
/// (<see cref="WrappedPrivateKey"/>, see ContractKeyProtector). For <see cref="ContractOrigin.EmspSigned"/> we never see
/// the key: the eMSP hands us the key already encrypted for the vehicle (<see cref="VehicleEncryptedKey"/> + <see cref="DhPublicKey"/>).
/// </summary>
public sealed record ContractCertificate
{
    public string? IssuerId { get; init; }
    /// <summary>Lower-case hex, no leading zeros.</summary>
    public required string Serial { get; init; }
    public required byte[] Der { get; init; }
    /// <summary>MO Sub-CA 2 then MO Sub-CA 1 (the order of ContractSignatureCertChain/SubCertificates).</summary>
    public required IReadOnlyList<byte[]> SubCaDers { get; init; }
    public required DateTimeOffset NotBefore { get; init; }
    public required DateTimeOffset NotAfter { get; init; }
    public required KeyAlgorithm KeyAlgorithm { get; init; }
    public byte[]? WrappedPrivateKey { get; init; }
    public byte[]? VehicleEncryptedKey { get; init; }
    public byte[]? DhPublicKey { get; init; }
}

/// <summary>A driver contract (EMAID) bound to a vehicle (PCID) by an eMSP.</summary>
public sealed record Contract
{
    public required Guid Id { get; init; }
    /// <summary>Normalized EMAID (upper case, no separators).</summary>
    public required string Emaid { get; init; }
    /// <summary>Upper-case PCID.</summary>
    public required string Pcid { get; init; }
    public required string EmspId { get; init; }
    public required IsoStandard Standard { get; init; }
    public required ContractOrigin Origin { get; init; }
    public bool IsDefault { get; init; }
    public ContractState State { get; init; } = ContractState.Active;
    public ContractCertificate? Certificate { get; init; }
    /// <summary>The last CertificateInstallationRes (EXI) signed for this contract's eMSP-made data (OPCP signedData).</summary>
    public byte[]? SignedData { get; init; }
    public DateTimeOffset? ContractEnds { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? TerminatedAt { get; init; }
    public string? TerminationReason { get; init; }
}

/// <summary>The eMSP behind a call and the EMAID prefixes (country + provider ID, e.g. DE8AA) it may use.</summary>
public sealed record ContractOwner(string EmspId, IReadOnlyCollection<string> ProviderPrefixes);

/// <summary>Bind an EMAID the eMSP chose, or (Emaid null) mint one under <see cref="ProviderPrefix"/>.</summary>
public sealed record ContractBinding
{
    public required string Pcid { get; init; }
    public string? Emaid { get; init; }
    /// <summary>Country + provider ID to mint under when <see cref="Emaid"/> is null (defaults to the owner's first).</summary>
    public string? ProviderPrefix { get; init; }
    public bool MakeDefault { get; init; }
    public IsoStandard? Standard { get; init; }
    public DateTimeOffset? ContractEnds { get; init; }
    /// <summary>Issue the contract certificate now rather than at the first installation.</summary>
    public bool IssueCertificate { get; init; }
}

/// <summary>Contract data made by the eMSP's own MO CA (OPCP cps <c>ContractData</c>), DER and raw bytes.</summary>
public sealed record EmspContractData
{
    public required byte[] ContractCertificate { get; init; }
    /// <summary>MO Sub-CA 2 then MO Sub-CA 1.</summary>
    public required IReadOnlyList<byte[]> SubCaCertificates { get; init; }
    public required byte[] EncryptedPrivateKey { get; init; }
    public required byte[] DhPublicKey { get; init; }
    public string? Emaid { get; init; }
    public string? Pcid { get; init; }
    public IsoStandard Standard { get; init; } = IsoStandard.Iso15118_2;
    /// <summary>SHA-256 fingerprint (hex) of the V2G root the CPS signer must chain to; null lets us choose.</summary>
    public string? CpsV2GRootFingerprint { get; init; }
}

/// <summary>OPCP signed contract data: the CertificateInstallationRes we signed as CPS.</summary>
public sealed record SignedContractData(string Emaid, string? Pcid, IsoStandard Standard, byte[] CertificateInstallationRes, string CpsV2GRootFingerprint, string CpsRootDistinguishedName);
