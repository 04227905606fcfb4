using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>A private key on a token. Each signature borrows a session from the token's pool.</summary>
internal sealed class Pkcs11SigningKey : ISigningKey
{
    private readonly Pkcs11Token _token;
    private readonly Pkcs11KeyAddress _address;
    private volatile IObjectHandle _handle;

    public KeyUri Uri { get; }
    public KeyAlgorithm Algorithm { get; }
    public SubjectPublicKeyInfo PublicKey { get; }

    public Pkcs11SigningKey(KeyUri uri, Pkcs11Token token, Pkcs11KeyAddress address, IObjectHandle handle, KeyAlgorithm algorithm, SubjectPublicKeyInfo publicKey)
    {
        Uri = uri; _token = token; _address = address; _handle = handle; Algorithm = algorithm; PublicKey = publicKey;
    }

    public async ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, SignatureFormat format = SignatureFormat.Der, CancellationToken ct = default)
    {
        // CKM_ECDSA signs a digest the caller computed (v2.40 §2.3.6); CKM_EDDSA signs the message (pure Ed448, RFC 8032).
        var input = Algorithm.IsEc() ? Digest(data.Span) : data.ToArray();
        var mechanismType = Algorithm.IsEc() ? CKM.CKM_ECDSA : Pkcs11KeyProvider.CkmEddsa;
        byte[] signature;
        using (var lease = await _token.RentAsync(ct))
        {
            signature = SignOn(lease, mechanismType, input, retryStaleHandle: true);
        }
        return Algorithm.IsEc() && format == SignatureFormat.Der ? PlugAndCharge.Pki.X509.EcdsaSignatureEncoding.RawToDer(signature) : signature;
    }

    private byte[] SignOn(SessionLease lease, CKM mechanismType, byte[] input, bool retryStaleHandle)
    {
        try
        {
            using var mechanism = _token.Module.Factories.MechanismFactory.Create(mechanismType);
            return lease.Session.Sign(mechanism, _handle, input);
        }
        catch (Pkcs11Exception e) when (retryStaleHandle && e.RV is CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_OBJECT_HANDLE_INVALID)
        {
            // Handles are only guaranteed within the application's login (v2.40 §6.7.5): look the key up again once.
            _handle = Pkcs11KeyProvider.FindOne(lease.Session, _token, _address, CKO.CKO_PRIVATE_KEY, Uri)
                ?? throw new PkiException(PkiError.KeyNotFound, $"Key '{Uri}' is no longer on token '{_token.Label}'.");
            return SignOn(lease, mechanismType, input, retryStaleHandle: false);
        }
        catch (Pkcs11Exception e)
        {
            lease.MarkBrokenIf(e);
            throw _token.Unavailable($"sign with '{Uri}' on", e);
        }
    }

    private byte[] Digest(ReadOnlySpan<byte> data)
    {
        var hash = Algorithm.Hash();
        if (hash == HashAlgorithmName.SHA256) return SHA256.HashData(data);
        if (hash == HashAlgorithmName.SHA384) return SHA384.HashData(data);
        return SHA512.HashData(data);
    }

    /// <summary>The key stays on the token; the pooled sessions belong to the token and outlive this handle.</summary>
    public void Dispose() { }
}
