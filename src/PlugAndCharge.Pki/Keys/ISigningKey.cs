using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.Keys;

/// <summary>How a signature is returned: X.509/CMS want DER ECDSA-Sig-Value; XML signatures over EXI want raw r‖s.</summary>
public enum SignatureFormat { Der, RawRs }

/// <summary>
/// A private key the CA may ask to sign, wherever it lives. Callers never see key bytes. ECDSA keys hash with the
/// hash their curve is paired with (<see cref="KeyAlgorithms.Hash"/>); Ed448 signs the message itself.
/// </summary>
public interface ISigningKey : IDisposable
{
    KeyUri Uri { get; }
    KeyAlgorithm Algorithm { get; }
    SubjectPublicKeyInfo PublicKey { get; }
    ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, SignatureFormat format = SignatureFormat.Der, CancellationToken ct = default);
}

/// <summary>A place keys live (software files, a PKCS#11 token, a cloud vault), selected by URI scheme.</summary>
public interface IKeyProvider
{
    IReadOnlyCollection<string> Schemes { get; }
    Task<ISigningKey> OpenAsync(KeyUri uri, CancellationToken ct = default);
    /// <summary>Generates a new key under <paramref name="uri"/>; fails with KeyAlreadyExists rather than overwrite.</summary>
    Task<ISigningKey> GenerateAsync(KeyUri uri, KeyAlgorithm algorithm, CancellationToken ct = default);
}
