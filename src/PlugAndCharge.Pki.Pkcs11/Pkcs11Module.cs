using System.Collections.Concurrent;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// A loaded PKCS#11 module. PKCS#11 v2.40 §5.4: C_Initialize is called once per process, so modules are loaded once
/// per path and stay loaded for the life of the process; every provider over the same module shares it and its tokens
/// (a login is also per application and token, §6.7.1, so sharing it is what the token does anyway).
/// </summary>
internal sealed class Pkcs11Module
{
    private static readonly ConcurrentDictionary<string, Lazy<Pkcs11Module>> Loaded = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, Lazy<Pkcs11Token>> _tokens = new(StringComparer.Ordinal);

    public Pkcs11InteropFactories Factories { get; } = new();
    public IPkcs11Library Library { get; }
    public string Path { get; }

    private Pkcs11Module(string path)
    {
        Path = path;
        LibdlResolution.EnsureRegistered();
        try
        {
            // Multi-threaded: the module may use OS locking, sessions are used from many threads (one at a time each).
            Library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);
        }
        catch (Exception e) when (e is Pkcs11Exception or UnmanagedException or DllNotFoundException or EntryPointNotFoundException)
        {
            throw new PkiException(PkiError.KeyProviderUnavailable, $"PKCS#11 module '{path}' could not be loaded: {Describe(e)}", e);
        }
    }

    public static Pkcs11Module Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new PkiException(PkiError.KeyProviderUnavailable, $"PKCS#11 module '{path}' does not exist.");
        var lazy = Loaded.GetOrAdd(full, p => new Lazy<Pkcs11Module>(() => new Pkcs11Module(p)));
        try { return lazy.Value; }
        catch { Loaded.TryRemove(full, out _); throw; }
    }

    /// <summary>The token with this label (RFC 7512 "token" attribute), logged in with the PIN on first use.</summary>
    public Pkcs11Token Token(string label, Func<string, string> pin, int maxSessions)
    {
        var lazy = _tokens.GetOrAdd(label, l => new Lazy<Pkcs11Token>(() => new Pkcs11Token(this, FindSlot(l), l, pin, maxSessions)));
        try { return lazy.Value; }
        catch { _tokens.TryRemove(label, out _); throw; }
    }

    private ISlot FindSlot(string label)
    {
        List<ISlot> slots;
        try { slots = Library.GetSlotList(SlotsType.WithTokenPresent); }
        catch (Pkcs11Exception e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"PKCS#11 module '{Path}' lists no slots: {e.RV}.", e); }
        var labels = new List<string>();
        foreach (var slot in slots)
        {
            var info = slot.GetTokenInfo();
            var l = info.Label.TrimEnd(' ', '\0');
            if (!info.TokenFlags.TokenInitialized) continue;
            if (l == label) return slot;
            labels.Add(l);
        }
        throw new PkiException(PkiError.KeyProviderUnavailable,
            $"No initialized token labelled '{label}' in PKCS#11 module '{Path}' (tokens: {(labels.Count == 0 ? "none" : string.Join(", ", labels))}).");
    }

    internal static string Describe(Exception e) => e is Pkcs11Exception p ? $"{p.Method} returned {p.RV}" : e.Message;
}
