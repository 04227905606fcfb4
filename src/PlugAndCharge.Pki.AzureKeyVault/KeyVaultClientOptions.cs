using Azure.Core;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>
/// Pipeline options of the Key Vault keys client. Azure.Core's retry policy retries 408, 429, 500, 502, 503, 504 and
/// transport failures, waiting at least what Retry-After (or x-ms-retry-after-ms) asks.
/// </summary>
public sealed class KeyVaultClientOptions : ClientOptions
{
    /// <summary>The Key Vault REST API version (keys: get, create, sign).</summary>
    public string ApiVersion { get; set; } = "7.4";

    /// <summary>The token scope before the vault has named its own in a challenge (public cloud).</summary>
    public string DefaultScope { get; set; } = "https://vault.azure.net/.default";

    /// <summary>Create keys as "EC-HSM" (HSM-protected, premium vaults and Managed HSM) rather than "EC".</summary>
    public bool HardwareProtectedKeys { get; set; }

    public KeyVaultClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromMilliseconds(800);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }
}
