using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 21 finding 8 (CRL part): the public, unauthenticated CRL URL must not let anyone make the CA sign at will.
/// Many concurrent GETs of a stale CRL cost one signature (counted in the audit log, where every CRL is recorded) and
/// all get the same bytes; after a revocation the next GET gets a new CRL with a higher number, and GETs after that
/// sign nothing.
/// </summary>
public sealed class RevocationPublicationAttackTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private const string Ca = "iso2-mo-subca2";

    private async Task<long> CrlSigningsAsync()
    {
        await using var cmd = f.Db.CreateCommand("select count(*) from audit_log where action = 'crl.generate' and subject = $1");
        cmd.Parameters.AddWithValue(Ca);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task RevokeNewCertificateAsync(string id)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await f.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = Ca, Actor = "test",
            PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = new X509Name($"CN={Emaid.Create("DE", "8AA", id).Normalized},O=Test,DC=MO"),
        });
        await f.Ca.Revoker.RevokeAsync(Ca, issued.Record.Serial, RevocationReason.KeyCompromise, "test");
    }

    [Fact]
    public async Task Concurrent_CRL_downloads_sign_once_per_change()
    {
        using var http = new HttpClient { BaseAddress = new Uri(f.HttpUrl) };
        async Task<byte[][]> Storm(int n) => await Task.WhenAll(Enumerable.Range(0, n).Select(_ => http.GetByteArrayAsync($"/crl/{Ca}.crl")));

        await RevokeNewCertificateAsync("C00000901"); // whatever CRL exists is now stale
        var before = await CrlSigningsAsync();
        var first = await Storm(64);
        var afterFirst = await CrlSigningsAsync();
        Assert.True(afterFirst - before == 1, $"{afterFirst - before} CRL signatures for 64 concurrent downloads");
        Assert.All(first, b => Assert.Equal(first[0], b));

        // Nothing changed: more downloads sign nothing.
        var same = await Storm(16);
        Assert.Equal(afterFirst, await CrlSigningsAsync());
        Assert.All(same, b => Assert.Equal(first[0], b));

        // A revocation: the next download is a new CRL, numbered higher, listing it; again one signature.
        await RevokeNewCertificateAsync("C00000902");
        var second = await Storm(32);
        Assert.Equal(afterFirst + 1, await CrlSigningsAsync());
        var oldCrl = CrlIssuer.Parse(first[0]);
        var newCrl = CrlIssuer.Parse(second[0]);
        Assert.True(Number(newCrl) > Number(oldCrl));
        Assert.Equal(oldCrl.GetRevokedCertificates().Count + 1, newCrl.GetRevokedCertificates().Count);
        Assert.All(second, b => Assert.Equal(second[0], b));
    }

    private static long Number(Org.BouncyCastle.X509.X509Crl crl) =>
        CrlNumber.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(crl.GetExtensionValue(X509Extensions.CrlNumber))).PositiveValue.LongValue;
}
