namespace PlugAndCharge.Pki.Keys;

/// <summary>
/// Where new keys of a hierarchy go, as the operator names it: a scheme alone (<c>file</c>, <c>memory</c>) or a key URI
/// prefix that names the token or vault (<c>pkcs11:token=pnc</c>, <c>azurekv:vault=https://x.vault.azure.net</c>).
/// Each backend's naming rules differ (Key Vault names allow only letters, digits and '-'), so the URI of a new key
/// is built here, in one place.
/// </summary>
public static class KeyLocation
{
    public static string NewKeyUri(string location, string name)
    {
        var scheme = location.Contains(':') ? location[..location.IndexOf(':')].ToLowerInvariant() : location.ToLowerInvariant();
        return scheme switch
        {
            "file" => $"file:{name}.p8",
            "memory" => $"memory:{name}",
            "pkcs11" when location.Contains("token=", StringComparison.OrdinalIgnoreCase) => $"{location.TrimEnd(';')};object={name}",
            "azurekv" when location.Contains("vault=", StringComparison.OrdinalIgnoreCase) =>
                $"{location.TrimEnd(';')};key={new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray())}",
            "pkcs11" => throw new PkiException(PkiError.BadKeyUri, "Name the token: --key-scheme 'pkcs11:token=LABEL'."),
            "azurekv" => throw new PkiException(PkiError.BadKeyUri, "Name the vault: --key-scheme 'azurekv:vault=https://NAME.vault.azure.net'."),
            _ => throw new PkiException(PkiError.BadKeyUri, $"Unknown key location '{location}' (file, memory, pkcs11:token=..., azurekv:vault=...)."),
        };
    }
}
