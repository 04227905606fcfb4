using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Crypto;

/// <summary>
/// file: keys are opened with one decryption (EC by .NET, Ed448 by BouncyCastle after .NET declined it): each algorithm
/// opens to the key it was written as, and a wrong passphrase is refused as such, never read as another algorithm.
/// </summary>
public sealed class FileKeyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pnc-file-keys-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Few iterations: these tests are about which path reads the file, not about the cost.
    private SoftwareKeyProvider Provider(string passphrase) => new(_folder, () => passphrase, iterations: 1_000);

    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Ed448)]
    public async Task A_written_key_opens_again_as_the_same_key(KeyAlgorithm algorithm)
    {
        var uri = KeyUri.Parse($"file:{algorithm}");
        using var written = await Provider("right").GenerateAsync(uri, algorithm);
        using var opened = await Provider("right").OpenAsync(uri);
        Assert.Equal(algorithm, opened.Algorithm);
        Assert.Equal(written.PublicKey.GetEncoded(), opened.PublicKey.GetEncoded());
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Ed448)]
    public async Task A_wrong_passphrase_is_refused(KeyAlgorithm algorithm)
    {
        var uri = KeyUri.Parse($"file:{algorithm}");
        (await Provider("right").GenerateAsync(uri, algorithm)).Dispose();
        var refused = await Assert.ThrowsAsync<PkiException>(() => Provider("wrong").OpenAsync(uri));
        Assert.Equal(PkiError.KeyProviderUnavailable, refused.Error);
    }
}
