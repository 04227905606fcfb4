using System.Collections.Concurrent;

namespace PlugAndCharge.Pki.Keys;

/// <summary>The one factory that turns a key URI into a signer, caching opened keys (opening may cost a KDF or a login).</summary>
public sealed class KeyProviderRegistry : IDisposable
{
    private readonly Dictionary<string, IKeyProvider> _byScheme = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<ISigningKey>>> _open = new();

    public KeyProviderRegistry(IEnumerable<IKeyProvider> providers)
    {
        foreach (var p in providers)
            foreach (var s in p.Schemes)
                _byScheme[s] = p;
    }

    public IReadOnlyCollection<string> Schemes => _byScheme.Keys;

    private IKeyProvider ProviderFor(KeyUri uri) =>
        _byScheme.TryGetValue(uri.Scheme, out var p) ? p
        : throw new PkiException(PkiError.KeyProviderUnavailable, $"No key provider for '{uri.Scheme}:' keys is configured (available: {string.Join(", ", _byScheme.Keys)}).");

    public async Task<ISigningKey> OpenAsync(KeyUri uri, CancellationToken ct = default)
    {
        var lazy = _open.GetOrAdd(uri.ToString(), _ => new Lazy<Task<ISigningKey>>(() => ProviderFor(uri).OpenAsync(uri, CancellationToken.None)));
        try { return await lazy.Value.WaitAsync(ct); }
        catch { _open.TryRemove(uri.ToString(), out _); throw; }
    }

    public async Task<ISigningKey> GenerateAsync(KeyUri uri, KeyAlgorithm algorithm, CancellationToken ct = default)
    {
        var key = await ProviderFor(uri).GenerateAsync(uri, algorithm, ct);
        _open[uri.ToString()] = new Lazy<Task<ISigningKey>>(Task.FromResult(key));
        return key;
    }

    public void Dispose()
    {
        foreach (var l in _open.Values)
            if (l.IsValueCreated && l.Value.IsCompletedSuccessfully) l.Value.Result.Dispose();
        _open.Clear();
    }
}
