using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>
/// PEM chains parsed once and reused by their SHA-256: stations send the same contract chains again and again, and
/// reusing the parsed objects also lets <see cref="ChainValidator"/> reuse its per-certificate caches (signatures, views).
/// Bounded: when full, it starts over.
/// </summary>
public sealed class ParsedChainCache(int capacity = 20_000)
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<X509Certificate>> _chains = new(StringComparer.Ordinal);

    /// <exception cref="FormatException">The text holds no readable certificate.</exception>
    public IReadOnlyList<X509Certificate> Read(string pem)
    {
        var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(pem)));
        if (_chains.TryGetValue(key, out var cached)) return cached;
        var chain = CertificateReader.ReadCertificates(Encoding.ASCII.GetBytes(pem));
        if (_chains.Count >= capacity) _chains.Clear();
        _chains[key] = chain;
        return chain;
    }
}
