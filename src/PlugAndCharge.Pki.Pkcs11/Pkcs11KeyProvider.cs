using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// CA keys on a PKCS#11 token (an HSM, SoftHSM2 in tests), named by RFC 7512 URIs:
/// <c>pkcs11:token=pnc;object=v2g-root</c>. Keys are generated on the token as sensitive, non-extractable token
/// objects; the private key never leaves it. ECDSA digests are computed here and signed with CKM_ECDSA (tokens such
/// as SoftHSM have no combined ECDSA-SHA-384/512 mechanism); Ed448 signs with CKM_EDDSA where the token offers it.
/// </summary>
public sealed class Pkcs11KeyProvider : IKeyProvider
{
    // PKCS#11 v3.0 values Pkcs11Interop 5 (a v2.40 binding) has no names for.
    internal const CKM CkmEcEdwardsKeyPairGen = (CKM)0x1055;
    internal const CKM CkmEddsa = (CKM)0x1057;
    internal const CKK CkkEcEdwards = (CKK)0x40;

    private readonly Pkcs11Options _options;

    public Pkcs11KeyProvider(Pkcs11Options options)
    {
        _options = options;
    }

    public IReadOnlyCollection<string> Schemes => ["pkcs11"];

    private Pkcs11Token TokenOf(Pkcs11KeyAddress address) =>
        Pkcs11Module.Load(_options.ModulePath).Token(address.Token, _options.Pin, _options.MaxSessionsPerToken);

    public async Task<ISigningKey> OpenAsync(KeyUri uri, CancellationToken ct = default)
    {
        var address = Pkcs11KeyAddress.Parse(uri);
        var token = TokenOf(address);
        using var lease = await token.RentAsync(ct);
        try
        {
            var privateKey = FindOne(lease.Session, token, address, CKO.CKO_PRIVATE_KEY, uri)
                ?? throw new PkiException(PkiError.KeyNotFound, $"No private key '{uri}' on token '{token.Label}'.");
            var (algorithm, spki) = ReadPublicKey(lease.Session, token, address, privateKey, uri);
            return new Pkcs11SigningKey(uri, token, address, privateKey, algorithm, spki);
        }
        catch (Pkcs11Exception e)
        {
            lease.MarkBrokenIf(e);
            throw token.Unavailable($"read key '{uri}' from", e);
        }
    }

    public async Task<ISigningKey> GenerateAsync(KeyUri uri, KeyAlgorithm algorithm, CancellationToken ct = default)
    {
        var address = Pkcs11KeyAddress.Parse(uri);
        if (string.IsNullOrEmpty(address.Label)) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': a new key needs a label (object=NAME).");
        if (!algorithm.CanSign()) throw new PkiException(PkiError.KeyNotAllowed, $"{algorithm} keys cannot sign; CA keys on a token are signing keys.");
        var token = TokenOf(address);
        var (generate, keyType) = algorithm == KeyAlgorithm.Ed448
            ? (CkmEcEdwardsKeyPairGen, CkkEcEdwards)
            : (CKM.CKM_EC_KEY_PAIR_GEN, CKK.CKK_EC);
        if (!token.Supports(generate) || (algorithm == KeyAlgorithm.Ed448 && !token.Supports(CkmEddsa)))
            throw new PkiException(PkiError.KeyNotAllowed, algorithm == KeyAlgorithm.Ed448
                ? $"PKCS#11 token '{token.Label}' offers no CKM_EC_EDWARDS_KEY_PAIR_GEN/CKM_EDDSA: Ed448 keys cannot live on it."
                : $"PKCS#11 token '{token.Label}' offers no CKM_EC_KEY_PAIR_GEN.");

        await token.GenerationLock.WaitAsync(ct);
        try
        {
            using var lease = await token.RentAsync(ct);
            var session = lease.Session;
            try
            {
                // The interface promises never to overwrite: a label in use (either half) is refused.
                if (FindAll(session, token, address with { Id = null }, null).Count > 0
                    || (address.Id != null && FindAll(session, token, address with { Label = null }, null).Count > 0))
                    throw new PkiException(PkiError.KeyAlreadyExists, $"Token '{token.Label}' already holds an object for '{uri}'; refusing to generate over it.");
                var id = address.Id ?? RandomNumberGenerator.GetBytes(16);
                var f = token.Module.Factories.ObjectAttributeFactory;
                var publicTemplate = new List<IObjectAttribute>
                {
                    f.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY), f.Create(CKA.CKA_KEY_TYPE, keyType),
                    f.Create(CKA.CKA_TOKEN, true), f.Create(CKA.CKA_PRIVATE, false), f.Create(CKA.CKA_VERIFY, true),
                    f.Create(CKA.CKA_LABEL, address.Label), f.Create(CKA.CKA_ID, id),
                    f.Create(CKA.CKA_EC_PARAMS, TokenKeyMaterial.EcParams(algorithm)),
                };
                var privateTemplate = new List<IObjectAttribute>
                {
                    f.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), f.Create(CKA.CKA_KEY_TYPE, keyType),
                    f.Create(CKA.CKA_TOKEN, true), f.Create(CKA.CKA_PRIVATE, true), f.Create(CKA.CKA_SIGN, true),
                    // The key must never leave the token, in clear or wrapped.
                    f.Create(CKA.CKA_SENSITIVE, true), f.Create(CKA.CKA_EXTRACTABLE, false),
                    f.Create(CKA.CKA_DERIVE, false), f.Create(CKA.CKA_DECRYPT, false), f.Create(CKA.CKA_UNWRAP, false),
                    f.Create(CKA.CKA_LABEL, address.Label), f.Create(CKA.CKA_ID, id),
                };
                using var mechanism = token.Module.Factories.MechanismFactory.Create(generate);
                session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out var publicHandle, out var privateHandle);
                var spki = TokenKeyMaterial.PublicKey(algorithm, EcPoint(session, publicHandle));
                return new Pkcs11SigningKey(uri, token, address, privateHandle, algorithm, spki);
            }
            catch (Pkcs11Exception e)
            {
                lease.MarkBrokenIf(e);
                throw token.Unavailable($"generate {algorithm.ProfileName()} key '{uri}' on", e);
            }
        }
        finally { token.GenerationLock.Release(); }
    }

    /// <summary>Finds the one object of a class matching the URI; more than one is an ambiguous URI.</summary>
    internal static IObjectHandle? FindOne(ISession session, Pkcs11Token token, Pkcs11KeyAddress address, CKO objectClass, KeyUri uri)
    {
        var found = FindAll(session, token, address, objectClass);
        if (found.Count > 1) throw new PkiException(PkiError.BadKeyUri, $"'{uri}' matches {found.Count} {objectClass} objects on token '{token.Label}'; add id=... to tell them apart.");
        return found.Count == 1 ? found[0] : null;
    }

    private static List<IObjectHandle> FindAll(ISession session, Pkcs11Token token, Pkcs11KeyAddress address, CKO? objectClass)
    {
        var f = token.Module.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>();
        if (objectClass != null) template.Add(f.Create(CKA.CKA_CLASS, objectClass.Value));
        if (address.Label != null) template.Add(f.Create(CKA.CKA_LABEL, address.Label));
        if (address.Id != null) template.Add(f.Create(CKA.CKA_ID, address.Id));
        return session.FindAllObjects(template);
    }

    private static (KeyAlgorithm, Org.BouncyCastle.Asn1.X509.SubjectPublicKeyInfo) ReadPublicKey(ISession session, Pkcs11Token token, Pkcs11KeyAddress address, IObjectHandle privateKey, KeyUri uri)
    {
        // The private key's own CKA_ID finds its public half even when the URI named the label only.
        var attrs = session.GetAttributeValue(privateKey, [CKA.CKA_KEY_TYPE, CKA.CKA_EC_PARAMS, CKA.CKA_ID, CKA.CKA_SIGN]);
        var keyType = (CKK)attrs[0].GetValueAsUlong();
        if (keyType != CKK.CKK_EC && keyType != CkkEcEdwards)
            throw new PkiException(PkiError.KeyNotAllowed, $"'{uri}' is a {keyType} key; CA keys on tokens are EC (P-256/P-384/P-521) or Ed448.");
        if (!attrs[3].GetValueAsBool()) throw new PkiException(PkiError.KeyNotAllowed, $"'{uri}' may not sign (CKA_SIGN is false).");
        var algorithm = TokenKeyMaterial.AlgorithmOf(attrs[1].GetValueAsByteArray());
        var publicKey = FindOne(session, token, address with { Id = attrs[2].GetValueAsByteArray() }, CKO.CKO_PUBLIC_KEY, uri)
            ?? throw new PkiException(PkiError.KeyNotFound, $"Token '{token.Label}' holds the private key '{uri}' but not its public key (same label and CKA_ID).");
        return (algorithm, TokenKeyMaterial.PublicKey(algorithm, EcPoint(session, publicKey)));
    }

    private static byte[] EcPoint(ISession session, IObjectHandle publicKey) =>
        session.GetAttributeValue(publicKey, [CKA.CKA_EC_POINT])[0].GetValueAsByteArray();
}
