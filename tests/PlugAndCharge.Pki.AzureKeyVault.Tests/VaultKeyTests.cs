using System.Diagnostics;
using System.Security.Cryptography;
using Azure.Core;
using Org.BouncyCastle.Asn1;
using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Pki.AzureKeyVault.Tests;

public class VaultKeyTests(LoopbackVault vault) : IClassFixture<LoopbackVault>
{
    private static readonly byte[] Message = "to be signed: a TBSCertList stands in here"u8.ToArray();

    private AzureKeyVaultKeyProvider Provider(FakeCredential? credential = null, int retries = 4, bool trustRoot = true) =>
        new(credential ?? new FakeCredential(), Options(retries, trustRoot));

    private KeyVaultClientOptions Options(int retries = 4, bool trustRoot = true)
    {
        var o = new KeyVaultClientOptions { Transport = vault.Transport(trustRoot) };
        o.Retry.MaxRetries = retries;
        o.Retry.Delay = TimeSpan.FromMilliseconds(50);
        o.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        return o;
    }

    private KeyUri UriOf(string key, string? version = null) =>
        KeyUri.Parse($"azurekv:vault={vault.VaultUri.GetLeftPart(UriPartial.Authority)};key={key}" + (version != null ? $";version={version}" : ""));

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    private static ECDsa Verifier(ISigningKey key)
    {
        var ec = ECDsa.Create();
        ec.ImportSubjectPublicKeyInfo(key.PublicKey.GetEncoded(Asn1Encodable.Der), out _);
        return ec;
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256, 32)]
    [InlineData(KeyAlgorithm.EcP384, 48)]
    [InlineData(KeyAlgorithm.EcP521, 66)]
    public async Task A_created_vault_key_signs_DER_and_raw_signatures_that_verify(KeyAlgorithm algorithm, int fieldBytes)
    {
        var key = await Provider().GenerateAsync(UriOf(NewName("ec")), algorithm);
        Assert.Equal(algorithm, key.Algorithm);
        using var ec = Verifier(key);
        Assert.True(ec.VerifyData(Message, await key.SignAsync(Message), algorithm.Hash(), DSASignatureFormat.Rfc3279DerSequence));
        var raw = await key.SignAsync(Message, SignatureFormat.RawRs);
        Assert.Equal(2 * fieldBytes, raw.Length);
        Assert.True(ec.VerifyData(Message, raw, algorithm.Hash(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public async Task Opening_without_a_version_pins_the_version_read_so_a_rotation_does_not_change_the_signer()
    {
        var name = NewName("pin");
        var created = await Provider().GenerateAsync(UriOf(name), KeyAlgorithm.EcP256);
        var opened = await Provider().OpenAsync(UriOf(name));
        var newVersion = vault.Rotate(name);
        using var ec = Verifier(created);
        Assert.True(ec.VerifyData(Message, await opened.SignAsync(Message), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        // A fresh open sees the new version; naming the version reaches it too.
        var latest = await Provider().OpenAsync(UriOf(name));
        Assert.NotEqual(created.PublicKey.GetEncoded(), latest.PublicKey.GetEncoded());
        Assert.Equal(latest.PublicKey.GetEncoded(), (await Provider().OpenAsync(UriOf(name, newVersion))).PublicKey.GetEncoded());
    }

    [Fact]
    public async Task Creating_over_an_existing_key_and_unsupported_requests_are_refused_with_named_errors()
    {
        var name = NewName("dup");
        await Provider().GenerateAsync(UriOf(name), KeyAlgorithm.EcP256);
        Assert.Equal(PkiError.KeyAlreadyExists, (await Assert.ThrowsAsync<PkiException>(() => Provider().GenerateAsync(UriOf(name), KeyAlgorithm.EcP256))).Error);
        Assert.Equal(PkiError.BadKeyUri, (await Assert.ThrowsAsync<PkiException>(() => Provider().GenerateAsync(UriOf(NewName("v"), "0123abcd"), KeyAlgorithm.EcP256))).Error);
        var ed = await Assert.ThrowsAsync<PkiException>(() => Provider().GenerateAsync(UriOf(NewName("ed")), KeyAlgorithm.Ed448));
        Assert.Equal(PkiError.KeyNotAllowed, ed.Error);
        Assert.Contains("ed448", ed.Message);
    }

    [Fact]
    public async Task A_missing_key_is_KeyNotFound()
    {
        var e = await Assert.ThrowsAsync<PkiException>(() => Provider().OpenAsync(UriOf("never-created")));
        Assert.Equal(PkiError.KeyNotFound, e.Error);
        Assert.Contains("KeyNotFound", e.Message);
    }

    [Fact]
    public async Task Bad_vault_URIs_are_BadKeyUri()
    {
        foreach (var bad in new[] { "azurekv:key=x", "azurekv:vault=http://x.vault.azure.net;key=k", "azurekv:vault=https://x.vault.azure.net/keys;key=k", "azurekv:vault=https://x.vault.azure.net;key=a/b", "azurekv:vault=https://x.vault.azure.net;key=k;colour=red" })
            Assert.Equal(PkiError.BadKeyUri, (await Assert.ThrowsAsync<PkiException>(() => Provider().OpenAsync(KeyUri.Parse(bad)))).Error);
    }

    [Fact]
    public async Task The_bearer_challenge_names_the_tenant_and_is_answered_once_per_vault()
    {
        var credential = new FakeCredential();
        var provider = Provider(credential);
        var before = vault.Challenges;
        var key = await provider.GenerateAsync(UriOf(NewName("challenge")), KeyAlgorithm.EcP256);
        for (var i = 0; i < 3; i++) await key.SignAsync(Message);
        // The first request (token for the home tenant) was challenged; everything after used the challenge's tenant.
        Assert.Equal(1, vault.Challenges - before);
        Assert.Contains(credential.Requests, r => r.TenantId == LoopbackVault.Tenant && r.Scopes.SequenceEqual([LoopbackVault.Resource + "/.default"]));
        Assert.Equal("https://vault.azure.net/.default", credential.Requests[0].Scopes.Single());
    }

    [Fact]
    public async Task A_challenge_for_a_foreign_resource_gets_no_token()
    {
        var vaultClient = new KeyVaultRestClient(vault.VaultUri, new FakeCredential(), Options());
        vault.ChallengeResource = "https://evil.example.net";
        try
        {
            var e = await Assert.ThrowsAsync<PkiException>(() => vaultClient.GetKeyAsync("anything", null));
            Assert.Equal(PkiError.KeyProviderUnavailable, e.Error);
            Assert.Contains("evil.example.net", e.Message);
        }
        finally { vault.ChallengeResource = LoopbackVault.Resource; }
    }

    [Fact]
    public async Task Throttling_is_retried_after_the_Retry_After_the_vault_asks_for()
    {
        var key = await Provider().GenerateAsync(UriOf(NewName("throttle")), KeyAlgorithm.EcP256);
        var throttledBefore = vault.Throttled;
        vault.Enqueue(429, "1");
        var watch = Stopwatch.StartNew();
        var signature = await key.SignAsync(Message);
        watch.Stop();
        Assert.Equal(1, vault.Throttled - throttledBefore);
        // The configured retry delay is 50 ms: only Retry-After explains waiting a second.
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {watch.Elapsed}");
        using var ec = Verifier(key);
        Assert.True(ec.VerifyData(Message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Transient_5xx_answers_are_retried()
    {
        var key = await Provider().GenerateAsync(UriOf(NewName("transient")), KeyAlgorithm.EcP384);
        var before = vault.TransientFailures;
        vault.Enqueue(503);
        vault.Enqueue(500);
        vault.Enqueue(503);
        var signature = await key.SignAsync(Message);
        Assert.Equal(3, vault.TransientFailures - before);
        using var ec = Verifier(key);
        Assert.True(ec.VerifyData(Message, signature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task A_vault_that_stays_unavailable_is_a_provider_error_after_the_retries()
    {
        var key = await Provider(retries: 2).GenerateAsync(UriOf(NewName("down")), KeyAlgorithm.EcP256);
        for (var i = 0; i < 3; i++) vault.Enqueue(503);
        try
        {
            var e = await Assert.ThrowsAsync<PkiException>(async () => await key.SignAsync(Message));
            Assert.Equal(PkiError.KeyProviderUnavailable, e.Error);
            Assert.Contains("503", e.Message);
        }
        finally { vault.ClearFaults(); }
    }

    [Fact]
    public async Task A_credential_that_cannot_get_a_token_or_whose_token_is_refused_is_a_provider_error()
    {
        var failing = await Assert.ThrowsAsync<PkiException>(() => Provider(new FakeCredential(fail: true)).OpenAsync(UriOf("any")));
        Assert.Equal(PkiError.KeyProviderUnavailable, failing.Error);
        Assert.Contains("credential", failing.Message);
        var refused = await Assert.ThrowsAsync<PkiException>(() => Provider(new FakeCredential(forcedTenant: "some-other-tenant")).OpenAsync(UriOf("any")));
        Assert.Equal(PkiError.KeyProviderUnavailable, refused.Error);
        Assert.Contains("401", refused.Message);
        Assert.DoesNotContain("fake.", refused.ToString());
    }

    [Fact]
    public async Task The_vault_certificate_is_trusted_only_through_the_configured_transport()
    {
        var e = await Assert.ThrowsAsync<PkiException>(() => Provider(trustRoot: false).OpenAsync(UriOf("any")));
        Assert.Equal(PkiError.KeyProviderUnavailable, e.Error);
        Assert.IsAssignableFrom<Azure.RequestFailedException>(e.InnerException);
        Assert.Contains("certificate", e.Message);
    }

    [Fact]
    public async Task Concurrent_signatures_all_verify()
    {
        var key = await Provider().GenerateAsync(UriOf(NewName("conc")), KeyAlgorithm.EcP256);
        using var ec = Verifier(key);
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(async i =>
        {
            var m = BitConverter.GetBytes(i);
            return (m, await key.SignAsync(m));
        }));
        Assert.All(results, r => Assert.True(ec.VerifyData(r.m, r.Item2, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
    }
}
