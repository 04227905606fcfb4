namespace PlugAndCharge.Contracts;

/// <summary>Settings of contract provisioning (section "Contracts" of the configuration).</summary>
public sealed class ContractOptions
{
    /// <summary>
    /// The key-encryption key (32 bytes, base64 in configuration) under which contract private keys are kept at rest
    /// (AES-256-GCM). Without it the hub cannot issue contract certificates itself.
    /// </summary>
    public byte[]? KeyEncryptionKey { get; set; }

    /// <summary>MO Sub-CA 2 that issues ISO 15118-2 contract certificates (a CA id of the PKI).</summary>
    public string Iso2ContractIssuerId { get; set; } = "iso2-mo-subca2";

    /// <summary>MO Sub-CA 2 that issues ISO 15118-20 contract certificates.</summary>
    public string Iso20ContractIssuerId { get; set; } = "iso20-mo-subca2";

    /// <summary>O attribute of contract certificate subjects.</summary>
    public string ContractOrganization { get; set; } = "PlugAndCharge";

    /// <summary>Validity of a contract certificate (the profile caps it; the issuer's notAfter caps it too).</summary>
    public TimeSpan ContractCertificateValidity { get; set; } = TimeSpan.FromDays(365);

    /// <summary>A certificate closer than this to its notAfter is replaced instead of reused on installation.</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How long after a contract's certificate was replaced (renewal, update, re-issue) a CertificateUpdateReq signed with
    /// it is still honoured: the car may not have received the replacement (an update answer lost on the way, an
    /// over-the-air installation not yet made). Older certificates of the contract, and certificates never issued for
    /// it, get FAILED_CertChainError; such a car installs again with its provisioning certificate.
    /// </summary>
    public TimeSpan SupersededCertificateGrace { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How strictly EMAIDs received from eMSPs and vehicles are read (minted ones are always strict).</summary>
    public Core.Identifiers.IdentifierStrictness ReceivedEmaidStrictness { get; set; } = Core.Identifiers.IdentifierStrictness.Lenient;

    /// <summary>How long the root pool is served from memory before it is read again (changes made here invalidate at once).</summary>
    public TimeSpan RootCacheLifetime { get; set; } = TimeSpan.FromMinutes(1);
}
