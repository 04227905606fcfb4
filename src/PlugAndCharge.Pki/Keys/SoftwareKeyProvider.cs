using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Keys;

/// <summary>
/// Keys in software. <c>file:NAME</c> keys are PKCS#8 files in the key folder, encrypted at rest (PBES2: PBKDF2-SHA256 +
/// AES-256-CBC, readable by <c>openssl pkey</c>) with the passphrase from configuration, written 0600.
/// <c>memory:NAME</c> keys live only in this process (tests, benchmarks, throw-away demos).
/// The passphrase and key bytes are never logged nor kept beyond decryption.
/// </summary>
public sealed class SoftwareKeyProvider : IKeyProvider
{
    private readonly string? _directory;
    private readonly Func<string>? _passphrase;
    private readonly int _iterations;
    private readonly ConcurrentDictionary<string, ISigningKey> _memory = new(StringComparer.Ordinal);

    /// <param name="directory">Folder of <c>file:</c> keys; null disables the file scheme.</param>
    /// <param name="passphrase">Reads the passphrase when a key is opened or created (from configuration or a secret file).</param>
    /// <param name="iterations">PBKDF2 iterations for new files.</param>
    public SoftwareKeyProvider(string? directory, Func<string>? passphrase, int iterations = 210_000)
    {
        _directory = directory;
        _passphrase = passphrase;
        _iterations = iterations;
    }

    public IReadOnlyCollection<string> Schemes => _directory != null ? ["file", "memory"] : ["memory"];

    public Task<ISigningKey> OpenAsync(KeyUri uri, CancellationToken ct = default)
    {
        if (uri.Scheme == "memory")
            return _memory.TryGetValue(uri.Body, out var k) ? Task.FromResult(k) : throw new PkiException(PkiError.KeyNotFound, $"No in-memory key '{uri}'.");
        var path = PathOf(uri);
        if (!File.Exists(path)) throw new PkiException(PkiError.KeyNotFound, $"Key file for '{uri}' not found.");
        var pem = File.ReadAllText(path);
        return Task.FromResult<ISigningKey>(Decrypt(uri, pem, Passphrase()));
    }

    public Task<ISigningKey> GenerateAsync(KeyUri uri, KeyAlgorithm algorithm, CancellationToken ct = default)
    {
        var key = SoftwareSigningKey.Generate(uri, algorithm);
        if (uri.Scheme == "memory")
        {
            if (!_memory.TryAdd(uri.Body, key)) { key.Dispose(); throw new PkiException(PkiError.KeyAlreadyExists, $"Key '{uri}' exists."); }
            return Task.FromResult<ISigningKey>(key);
        }
        var path = PathOf(uri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_directory!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pem = key.ExportEncryptedPem(Passphrase(), _iterations);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var f = new FileStream(path, options);
            f.Write(Encoding.ASCII.GetBytes(pem));
            f.Flush(true);
        }
        catch (IOException) when (File.Exists(path))
        {
            key.Dispose();
            throw new PkiException(PkiError.KeyAlreadyExists, $"Key file for '{uri}' exists; refusing to overwrite a key.");
        }
        return Task.FromResult<ISigningKey>(key);
    }

    /// <summary>Imports an existing private key (PEM, PKCS#8 encrypted or not, or SEC1) under a key URI of this provider.</summary>
    public ISigningKey Import(KeyUri uri, string pem, string? pemPassphrase)
    {
        var key = SoftwareSigningKey.FromPem(uri, pem, pemPassphrase);
        if (uri.Scheme == "memory")
        {
            if (!_memory.TryAdd(uri.Body, key)) throw new PkiException(PkiError.KeyAlreadyExists, $"Key '{uri}' exists.");
            return key;
        }
        var path = PathOf(uri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var f = new FileStream(path, options);
        f.Write(Encoding.ASCII.GetBytes(key.ExportEncryptedPem(Passphrase(), _iterations)));
        return key;
    }

    private string Passphrase()
    {
        var p = _passphrase?.Invoke();
        if (string.IsNullOrEmpty(p))
            throw new PkiException(PkiError.KeyProviderUnavailable, "No key passphrase is configured for file: keys (Pki:KeyPassphrase, PNC_KEY_PASSPHRASE or Pki:KeyPassphraseFile).");
        return p;
    }

    private string PathOf(KeyUri uri)
    {
        if (_directory == null) throw new PkiException(PkiError.KeyProviderUnavailable, "No key folder is configured for file: keys.");
        var name = uri.Body;
        // Keys are named inside the key folder only: no absolute paths, no traversal.
        if (name.Length == 0 || name.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(name) || name.IndexOfAny(['\\', '\0']) >= 0)
            throw new PkiException(PkiError.BadKeyUri, $"'{uri}' must name a file inside the key folder.");
        return Path.Combine(_directory, name);
    }

    private static SoftwareSigningKey Decrypt(KeyUri uri, string pem, string passphrase)
    {
        try { return SoftwareSigningKey.FromPem(uri, pem, passphrase); }
        catch (CryptographicException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Key '{uri}' could not be decrypted (wrong passphrase or damaged file).", e); }
        catch (InvalidCipherTextException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Key '{uri}' could not be decrypted (wrong passphrase or damaged file).", e); }
    }
}

/// <summary>A key held in process memory. ECDSA signs through .NET (OpenSSL underneath); Ed448 through BouncyCastle.</summary>
internal sealed class SoftwareSigningKey : ISigningKey
{
    private readonly ECDsa? _ec;
    private readonly ConcurrentBag<ECDsa> _ecPool = new();
    private readonly AsymmetricKeyParameter? _bcPrivate;

    public KeyUri Uri { get; }
    public KeyAlgorithm Algorithm { get; }
    public SubjectPublicKeyInfo PublicKey { get; }

    private SoftwareSigningKey(KeyUri uri, KeyAlgorithm algorithm, ECDsa? ec, AsymmetricKeyParameter? bcPrivate, SubjectPublicKeyInfo spki)
    {
        Uri = uri; Algorithm = algorithm; _ec = ec; _bcPrivate = bcPrivate; PublicKey = spki;
    }

    public static SoftwareSigningKey Generate(KeyUri uri, KeyAlgorithm algorithm)
    {
        if (algorithm.IsEc())
        {
            var ec = ECDsa.Create(algorithm.Curve());
            return FromEcdsa(uri, ec);
        }
        var random = new SecureRandom();
        IAsymmetricCipherKeyPairGenerator gen = algorithm switch
        {
            KeyAlgorithm.Ed448 => new Ed448KeyPairGenerator(),
            KeyAlgorithm.X448 => new X448KeyPairGenerator(),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };
        gen.Init(algorithm == KeyAlgorithm.Ed448 ? new Ed448KeyGenerationParameters(random) : new X448KeyGenerationParameters(random));
        var pair = gen.GenerateKeyPair();
        return new SoftwareSigningKey(uri, algorithm, null, pair.Private, SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pair.Public));
    }

    private static SoftwareSigningKey FromEcdsa(KeyUri uri, ECDsa ec)
    {
        var spki = SubjectPublicKeyInfo.GetInstance(ec.ExportSubjectPublicKeyInfo());
        var alg = ec.KeySize switch { 256 => KeyAlgorithm.EcP256, 384 => KeyAlgorithm.EcP384, 521 => KeyAlgorithm.EcP521, _ => throw new PkiException(PkiError.KeyNotAllowed, $"EC key of {ec.KeySize} bits is not supported.") };
        return new SoftwareSigningKey(uri, alg, ec, null, spki);
    }

    public static SoftwareSigningKey FromPem(KeyUri uri, string pem, string? passphrase)
    {
        // EC keys (every CA key of the PKI) are decrypted once, by .NET on OpenSSL. PBES2's 210,000 PBKDF2 iterations
        // are what opening a key costs; BouncyCastle's managed PBKDF2 used to run first on every key only to see its
        // algorithm, and took several times as long as OpenSSL's (docs/performance.md, "Fleet scale": a restart's start).
        var ec = ECDsa.Create();
        try
        {
            if (pem.Contains("ENCRYPTED", StringComparison.Ordinal)) ec.ImportFromEncryptedPem(pem, passphrase ?? "");
            else ec.ImportFromPem(pem);
            return FromEcdsa(uri, ec);
        }
        catch (ArgumentException e) { ec.Dispose(); throw new PkiException(PkiError.Malformed, "The PEM holds no supported private key.", e); }
        catch (CryptographicException)
        {
            ec.Dispose();
            // Not EC (or a wrong passphrase, which BouncyCastle reports in its own way): Ed448 and X448 are read by BouncyCastle.
            var bcKey = TryReadNonEc(pem, passphrase);
            if (bcKey is Ed448PrivateKeyParameters ed)
                return new SoftwareSigningKey(uri, KeyAlgorithm.Ed448, null, ed, SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ed.GeneratePublicKey()));
            if (bcKey is X448PrivateKeyParameters x)
                return new SoftwareSigningKey(uri, KeyAlgorithm.X448, null, x, SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(x.GeneratePublicKey()));
            throw;
        }
    }

    private static AsymmetricKeyParameter? TryReadNonEc(string pem, string? passphrase)
    {
        var isEncrypted = pem.Contains("BEGIN ENCRYPTED PRIVATE KEY", StringComparison.Ordinal);
        if (!isEncrypted && !pem.Contains("BEGIN PRIVATE KEY", StringComparison.Ordinal)) return null;
        var der = PemBody(pem);
        PrivateKeyInfo info;
        if (isEncrypted)
        {
            var epki = EncryptedPrivateKeyInfo.GetInstance(der);
            info = PrivateKeyInfoFactory.CreatePrivateKeyInfo((passphrase ?? "").ToCharArray(), epki);
        }
        else info = PrivateKeyInfo.GetInstance(der);
        var oid = info.PrivateKeyAlgorithm.Algorithm;
        if (oid.Equals(Org.BouncyCastle.Asn1.EdEC.EdECObjectIdentifiers.id_Ed448) || oid.Equals(Org.BouncyCastle.Asn1.EdEC.EdECObjectIdentifiers.id_X448))
            return PrivateKeyFactory.CreateKey(info);
        return null;
    }

    private static byte[] PemBody(string pem)
    {
        var start = pem.IndexOf("-----BEGIN", StringComparison.Ordinal);
        var bodyStart = pem.IndexOf('\n', start) + 1;
        var end = pem.IndexOf("-----END", bodyStart, StringComparison.Ordinal);
        return Convert.FromBase64String(pem[bodyStart..end].Replace("\r", "").Replace("\n", ""));
    }

    public string ExportEncryptedPem(string passphrase, int iterations)
    {
        if (_ec != null)
            return _ec.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, iterations));
        var info = PrivateKeyInfoFactory.CreatePrivateKeyInfo(_bcPrivate!);
        var salt = RandomNumberGenerator.GetBytes(16);
        var epki = EncryptedPrivateKeyInfoFactory.CreateEncryptedPrivateKeyInfo(
            NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256, passphrase.ToCharArray(), salt, iterations, new SecureRandom(), info);
        return PemEncoding.WriteString("ENCRYPTED PRIVATE KEY", epki.GetEncoded(Asn1Encodable.Der));
    }

    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, SignatureFormat format = SignatureFormat.Der, CancellationToken ct = default)
        => ValueTask.FromResult(Sign(data.Span, format));

    public byte[] Sign(ReadOnlySpan<byte> data, SignatureFormat format)
    {
        if (_ec != null)
        {
            // ECDsa instances are not documented as thread-safe: each concurrent signer borrows its own copy.
            if (!_ecPool.TryTake(out var ec)) ec = Clone(_ec);
            try
            {
                return ec.SignData(data, Algorithm.Hash(), format == SignatureFormat.Der ? DSASignatureFormat.Rfc3279DerSequence : DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
            finally { _ecPool.Add(ec); }
        }
        if (Algorithm != KeyAlgorithm.Ed448) throw new PkiException(PkiError.KeyNotAllowed, $"{Algorithm} keys cannot sign.");
        var signer = new Org.BouncyCastle.Crypto.Signers.Ed448Signer([]);
        signer.Init(true, _bcPrivate);
        signer.BlockUpdate(data);
        return signer.GenerateSignature();
    }

    private static ECDsa Clone(ECDsa source)
    {
        var p = source.ExportParameters(true);
        try { return ECDsa.Create(p); }
        finally { CryptographicOperations.ZeroMemory(p.D); }
    }

    /// <summary>X448 agreement for keys of that type (the -20 contract key delivery).</summary>
    internal AsymmetricKeyParameter? BouncyCastlePrivate => _bcPrivate;

    public void Dispose()
    {
        _ec?.Dispose();
        while (_ecPool.TryTake(out var e)) e.Dispose();
    }
}
