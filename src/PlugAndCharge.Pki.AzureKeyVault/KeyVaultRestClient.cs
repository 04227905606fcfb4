using System.Buffers.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>
/// The Key Vault keys REST API (api-version 7.4) on Azure.Core's HTTP pipeline: GET /keys/{name}[/{version}],
/// POST /keys/{name}/create, POST /keys/{name}/{version}/sign. Requests are authorized with a bearer token from the
/// <see cref="TokenCredential"/> (DefaultAzureCredential in production), answering the vault's challenge, and retried
/// on throttling (429 + Retry-After) and transient 5xx by the pipeline's retry policy. Tokens and digests are never
/// logged by this code; Azure.Core redacts the Authorization header in its own logs.
/// </summary>
public sealed class KeyVaultRestClient : IVaultKeys
{
    private readonly HttpPipeline _pipeline;
    private readonly KeyVaultClientOptions _options;

    public Uri VaultUri { get; }

    public KeyVaultRestClient(Uri vaultUri, TokenCredential credential, KeyVaultClientOptions? options = null)
    {
        if (vaultUri.Scheme != Uri.UriSchemeHttps) throw new PkiException(PkiError.BadKeyUri, $"Vault URL '{vaultUri}' must be https.");
        VaultUri = new Uri(vaultUri.GetLeftPart(UriPartial.Authority));
        _options = options ?? new KeyVaultClientOptions();
        _pipeline = HttpPipelineBuilder.Build(_options, [], [new KeyVaultChallengePolicy(credential, _options.DefaultScope)], new ResponseClassifier());
    }

    public async Task<VaultKey> GetKeyAsync(string name, string? version, CancellationToken ct = default)
    {
        using var message = Message(RequestMethod.Get, version == null ? ["keys", name] : ["keys", name, version], null);
        var body = await SendAsync(message, $"read key '{name}'", ct);
        return JsonWebKeys.Read(body.RootElement, VaultUri.Host);
    }

    public async Task<VaultKey> CreateEcKeyAsync(string name, KeyAlgorithm curve, CancellationToken ct = default)
    {
        var request = new Dictionary<string, object>
        {
            ["kty"] = _options.HardwareProtectedKeys ? "EC-HSM" : "EC",
            ["crv"] = JsonWebKeys.Curve(curve),
            // A CA key only signs (and verifies); nothing else is allowed on it.
            ["key_ops"] = new[] { "sign", "verify" },
            ["attributes"] = new Dictionary<string, object> { ["enabled"] = true, ["exportable"] = false },
        };
        using var message = Message(RequestMethod.Post, ["keys", name, "create"], JsonSerializer.SerializeToUtf8Bytes(request));
        var body = await SendAsync(message, $"create key '{name}'", ct);
        return JsonWebKeys.Read(body.RootElement, VaultUri.Host);
    }

    public async Task<byte[]> SignDigestAsync(VaultKey key, byte[] digest, CancellationToken ct = default)
    {
        var request = new Dictionary<string, string> { ["alg"] = JsonWebKeys.SignatureAlgorithm(key.Algorithm), ["value"] = Base64Url.EncodeToString(digest) };
        using var message = Message(RequestMethod.Post, ["keys", key.Name, key.Version, "sign"], JsonSerializer.SerializeToUtf8Bytes(request));
        var body = await SendAsync(message, $"sign with key '{key.Name}/{key.Version}'", ct);
        if (!body.RootElement.TryGetProperty("value", out var v) || v.ValueKind != JsonValueKind.String)
            throw new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} returned a sign result without a value.");
        byte[] signature;
        try { signature = Base64Url.DecodeFromChars(v.GetString()); }
        catch (FormatException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} returned a badly encoded signature.", e); }
        if (signature.Length != 2 * JsonWebKeys.FieldBytes(key.Algorithm))
            throw new PkiException(PkiError.SignatureCheckFailed, $"Azure Key Vault returned a {signature.Length}-byte {JsonWebKeys.SignatureAlgorithm(key.Algorithm)} signature.");
        return signature;
    }

    private HttpMessage Message(RequestMethod method, string[] path, byte[]? json)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(VaultUri);
        foreach (var segment in path)
        {
            request.Uri.AppendPath("/", escape: false);
            request.Uri.AppendPath(segment, escape: true);
        }
        request.Uri.AppendQuery("api-version", _options.ApiVersion);
        request.Headers.Add("Accept", "application/json");
        if (json != null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(json);
        }
        return message;
    }

    private async Task<JsonDocument> SendAsync(HttpMessage message, string action, CancellationToken ct)
    {
        try
        {
            await _pipeline.SendAsync(message, ct);
        }
        catch (ChallengeRefusedException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Could not {action}: {e.Message}", e); }
        catch (CredentialUnavailableException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Could not {action} in Azure Key Vault {VaultUri.Host}: no credential is available ({e.Message}).", e); }
        catch (AuthenticationFailedException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Could not {action} in Azure Key Vault {VaultUri.Host}: the credential could not get a token ({e.Message}).", e); }
        catch (RequestFailedException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Could not {action} in Azure Key Vault {VaultUri.Host}: {e.Message}", e); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions.All(i => i is RequestFailedException))
        {
            // The retry policy gave up on transport failures (TLS, connection): report the last one.
            var last = e.InnerExceptions[^1];
            throw new PkiException(PkiError.KeyProviderUnavailable, $"Could not {action} in Azure Key Vault {VaultUri.Host} after {e.InnerExceptions.Count} attempts: {last.GetBaseException().Message}", last);
        }
        var response = message.Response;
        if (response.Status is >= 200 and < 300)
        {
            try { return JsonDocument.Parse(response.Content.ToMemory()); }
            catch (JsonException e) { throw new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} answered '{action}' with malformed JSON.", e); }
        }
        var (code, text) = Error(response);
        var detail = code != null ? $" ({code}: {text})" : "";
        throw response.Status switch
        {
            404 => new PkiException(PkiError.KeyNotFound, $"Azure Key Vault {VaultUri.Host} has no such key: could not {action}{detail}."),
            401 => new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} did not accept the credential's token: could not {action} (401){detail}."),
            403 => new PkiException(PkiError.KeyProviderUnavailable, $"The identity may not {action} in Azure Key Vault {VaultUri.Host} (403){detail}; it needs the Key Vault Crypto User role (get, sign) or Crypto Officer (create)."),
            429 or >= 500 => new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} is still unavailable after {_options.Retry.MaxRetries} retries: could not {action} ({response.Status}){detail}."),
            _ => new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {VaultUri.Host} refused to {action} ({response.Status}){detail}."),
        };
    }

    /// <summary>Key Vault errors are {"error":{"code":..,"message":..}}.</summary>
    private static (string? Code, string? Message) Error(Response response)
    {
        try
        {
            using var doc = JsonDocument.Parse(response.Content.ToMemory());
            if (doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
                return (e.TryGetProperty("code", out var c) ? c.GetString() : null, e.TryGetProperty("message", out var m) ? m.GetString() : null);
        }
        catch (JsonException) { }
        catch (ArgumentException) { }
        return (null, null);
    }
}
