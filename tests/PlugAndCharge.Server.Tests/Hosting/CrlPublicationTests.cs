using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>The CRL at its stable URL is regenerated as soon as a certificate is revoked, not only at half-life.</summary>
public sealed class CrlPublicationTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_revocation_shows_in_the_next_download()
    {
        using var http = new HttpClient { BaseAddress = new Uri(f.HttpUrl) };
        var before = new Org.BouncyCastle.X509.X509CrlParser().ReadCrl(await http.GetByteArrayAsync("/crl/iso2-mo-subca2.crl"));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await f.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Actor = "test",
            PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = new X509Name($"CN={Emaid.Create("DE", "8AA", "C00000777").Normalized},O=Test,DC=MO"),
        });
        await f.Ca.Revoker.RevokeAsync("iso2-mo-subca2", issued.Record.Serial, RevocationReason.KeyCompromise, "test");

        var after = new Org.BouncyCastle.X509.X509CrlParser().ReadCrl(await http.GetByteArrayAsync("/crl/iso2-mo-subca2.crl"));
        Assert.NotNull(after.GetRevokedCertificate(issued.Certificate.SerialNumber));
        Assert.Null(before.GetRevokedCertificate(issued.Certificate.SerialNumber));
    }
}
