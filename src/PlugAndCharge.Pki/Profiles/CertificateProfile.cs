using System.Text.Json.Serialization;

namespace PlugAndCharge.Pki.Profiles;

public enum ProfileKind { Root, SubCa, Leaf }

/// <summary>What the subject CN must be (ISO 15118-2 Annex F; docs/domain.md §2).</summary>
public enum CommonNameRule { Any, Emaid, Pcid, EvseId, SeccId }

/// <summary>
/// A certificate profile as data (pki/profiles/*.json): subject rules, key and signature algorithm, validity,
/// extensions and the DER size limit (800 bytes in ISO 15118-2 [V2G2-010], 1600 in -20 by its certificateType). Issuance and linting read nothing else.
/// </summary>
public sealed class CertificateProfile
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string Standard { get; init; }
    public required ProfileKind Kind { get; init; }
    public required SubjectRules Subject { get; init; }
    /// <summary>Allowed subject keys: secp256r1, secp384r1, secp521r1, ed448, x448.</summary>
    public required IReadOnlyList<string> Keys { get; init; }
    /// <summary>Signature algorithms the issuer may use: ecdsa-with-SHA256/384/512, ed448.</summary>
    public required IReadOnlyList<string> SignatureAlgorithms { get; init; }
    public required int MaxValidityDays { get; init; }
    public required BasicConstraintsRule BasicConstraints { get; init; }
    public required KeyUsageRule KeyUsage { get; init; }
    public IReadOnlyList<string> ExtendedKeyUsage { get; init; } = [];
    public bool OcspNoCheck { get; init; }
    public bool AuthorityInfoAccess { get; init; }
    public bool CrlDistributionPoint { get; init; }
    public int MaxDerBytes { get; init; } = 800;
    /// <summary>Whether an issuance request may name DNS names and IP addresses (TLS server certificates of the service itself).</summary>
    public bool SubjectAltName { get; init; }
    /// <summary>Profiles of the CAs allowed to sign this one; empty for a self-signed root.</summary>
    public IReadOnlyList<string> Issuers { get; init; } = [];

    [JsonIgnore] public bool IsCa => Kind != ProfileKind.Leaf;

    public override string ToString() => Id;
}

public sealed class SubjectRules
{
    /// <summary>Allowed values of the DC attribute; empty = DC not required.</summary>
    public IReadOnlyList<string> DomainComponent { get; init; } = [];
    public IReadOnlyList<string> Required { get; init; } = ["CN"];
    public IReadOnlyList<string> Allowed { get; init; } = ["CN", "O", "OU", "C", "L", "ST", "DC"];
    public CommonNameRule CommonName { get; init; } = CommonNameRule.Any;
}

public sealed class BasicConstraintsRule
{
    public bool Ca { get; init; }
    public int? PathLen { get; init; }
    public bool Critical { get; init; } = true;
}

public sealed class KeyUsageRule
{
    public IReadOnlyList<string> Usages { get; init; } = [];
    public bool Critical { get; init; } = true;
}
