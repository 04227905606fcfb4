namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// Where the PKCS#11 module is and how to log in. The host builds it from configuration:
/// <c>PNC_PKCS11_MODULE</c> (path of the module, e.g. /usr/lib/softhsm/libsofthsm2.so), and the user PIN from
/// <c>PNC_PKCS11_PIN</c> or, better, the file <c>PNC_PKCS11_PIN_FILE</c> names. The PIN is read when a token is first
/// logged in to and is never logged.
/// </summary>
public sealed class Pkcs11Options
{
    public required string ModulePath { get; init; }

    /// <summary>Returns the user PIN of a token (argument: the token label).</summary>
    public required Func<string, string> Pin { get; init; }

    /// <summary>Sessions open at most per token; signatures beyond this wait for a free session.</summary>
    public int MaxSessionsPerToken { get; init; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>
    /// Reads <c>PNC_PKCS11_MODULE</c>, <c>PNC_PKCS11_PIN</c> and <c>PNC_PKCS11_PIN_FILE</c> through
    /// <paramref name="setting"/> (environment or configuration). Null when no module is configured: the host then
    /// registers no <c>pkcs11:</c> provider and a pkcs11 key URI fails with KeyProviderUnavailable.
    /// </summary>
    public static Pkcs11Options? FromSettings(Func<string, string?> setting)
    {
        var module = setting("PNC_PKCS11_MODULE");
        if (string.IsNullOrWhiteSpace(module)) return null;
        var pin = setting("PNC_PKCS11_PIN");
        var pinFile = setting("PNC_PKCS11_PIN_FILE");
        if (!string.IsNullOrEmpty(pin) && !string.IsNullOrEmpty(pinFile))
            throw new PkiException(PkiError.KeyProviderUnavailable, "Set PNC_PKCS11_PIN or PNC_PKCS11_PIN_FILE, not both.");
        Func<string, string> read = !string.IsNullOrEmpty(pinFile) ? _ => ReadPinFile(pinFile)
            : !string.IsNullOrEmpty(pin) ? _ => pin
            : label => throw new PkiException(PkiError.KeyProviderUnavailable, $"No PIN is configured for PKCS#11 token '{label}' (PNC_PKCS11_PIN or PNC_PKCS11_PIN_FILE).");
        return new Pkcs11Options { ModulePath = module, Pin = read };
    }

    /// <summary>A secret file holds the PIN on its first line (a trailing newline is not part of it).</summary>
    public static string ReadPinFile(string path)
    {
        if (!File.Exists(path)) throw new PkiException(PkiError.KeyProviderUnavailable, $"PKCS#11 PIN file '{path}' does not exist.");
        var text = File.ReadAllText(path);
        var end = text.IndexOfAny(['\r', '\n']);
        var pin = end >= 0 ? text[..end] : text;
        if (pin.Length == 0) throw new PkiException(PkiError.KeyProviderUnavailable, $"PKCS#11 PIN file '{path}' is empty.");
        return pin;
    }
}
