using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary><c>azurekv:vault=https://NAME.vault.azure.net;key=KEY[;version=VERSION]</c>.</summary>
internal sealed record VaultKeyAddress(Uri Vault, string Key, string? Version)
{
    public static VaultKeyAddress Parse(KeyUri uri)
    {
        if (uri.Scheme != "azurekv") throw new PkiException(PkiError.BadKeyUri, $"'{uri}' is not an azurekv: URI.");
        var a = uri.Attributes();
        foreach (var name in a.Keys)
            if (name is not ("vault" or "key" or "version"))
                throw new PkiException(PkiError.BadKeyUri, $"'{uri}': unknown attribute '{name}' (vault, key, version).");
        if (!a.TryGetValue("vault", out var vault) || !Uri.TryCreate(vault, UriKind.Absolute, out var vaultUri)
            || vaultUri.Scheme != Uri.UriSchemeHttps || vaultUri.AbsolutePath is not ("/" or "") || !string.IsNullOrEmpty(vaultUri.Query) || !string.IsNullOrEmpty(vaultUri.UserInfo))
            throw new PkiException(PkiError.BadKeyUri, $"'{uri}' needs vault=https://NAME.vault.azure.net (an https URL without a path).");
        if (!a.TryGetValue("key", out var key) || !IsName(key, 127))
            throw new PkiException(PkiError.BadKeyUri, $"'{uri}' needs key=NAME (1-127 letters, digits and '-').");
        a.TryGetValue("version", out var version);
        if (version != null && !IsName(version, 64)) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': bad key version.");
        return new VaultKeyAddress(vaultUri, key, version);
    }

    private static bool IsName(string s, int max) => s.Length is > 0 and var n && n <= max && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
