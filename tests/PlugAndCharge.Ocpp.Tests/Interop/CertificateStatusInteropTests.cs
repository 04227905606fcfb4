using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Org.BouncyCastle.Ocsp;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Validation;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>
/// GetCertificateStatus and 2.1 GetCertificateChainStatus with openssl as the OCSP responder: ours for our CAs,
/// an allow-listed foreign one, and a refused station-supplied URL.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class CertificateStatusInteropTests(OcppServerFixture server)
{
    private const string MoSubCa2 = "iso2-mo-subca2";

    private static object StatusCall(Org.BouncyCastle.X509.X509Certificate cert, Org.BouncyCastle.X509.X509Certificate issuer, string responderUrl)
    {
        var (name, key, serial) = CertificateHashes.Of(cert, issuer);
        return new { call = "GetCertificateStatus", @params = new { ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = name, issuerKeyHash = key.ToUpperInvariant(), serialNumber = serial, responderURL = responderUrl } } };
    }

    /// <summary>The certificate status inside a base64 OCSPResponse, read with BouncyCastle.</summary>
    private static string OcspStatus(JsonElement result)
    {
        var resp = new OcspResp(Convert.FromBase64String(result.GetProperty("ocspResult").GetString()!));
        var single = ((BasicOcspResp)resp.GetResponseObject()).Responses[0];
        return single.GetCertStatus() switch { null => "good", RevokedStatus => "revoked", _ => "unknown" };
    }

    private async Task<OpensslOcspResponder> OurResponderAsync(params OpensslOcspResponder.Entry[] entries)
    {
        var (signer, key) = await server.OcspSignerAsync(MoSubCa2);
        var responder = await OpensslOcspResponder.StartAsync(await server.CaCertificateAsync(MoSubCa2), signer, key, entries);
        server.OwnResponders[MoSubCa2] = responder.Url;
        return responder;
    }

    [Fact]
    public async Task Our_CAs_are_answered_by_our_responder_and_cached_until_next_update()
    {
        var good = await server.IssueContractAsync(OcppServerFixture.NewEmaid());
        var revoked = await server.IssueContractAsync(OcppServerFixture.NewEmaid());
        var revokedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var issuer = await server.CaCertificateAsync(MoSubCa2);
        var id = await server.RegisterStationAsync();

        StationRun run;
        await using (var responder = await OurResponderAsync(new(good.Certificate, null), new(revoked.Certificate, revokedAt)))
        {
            // A station-supplied responderURL is ignored for our own CAs.
            run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
                [StatusCall(good.Certificate, issuer, "http://169.254.169.254/"), StatusCall(revoked.Certificate, issuer, "http://x.invalid/")]));
        }
        Assert.True(run.Ok(0).GetProperty("status").GetString() == "Accepted", run.ToString());
        Assert.Equal("good", OcspStatus(run.Ok(0)));
        Assert.Equal("revoked", OcspStatus(run.Ok(1)));

        // The responder is gone: the answers come from the cache (openssl set nextUpdate 10 minutes ahead).
        var again = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [StatusCall(good.Certificate, issuer, "")]));
        Assert.Equal("good", OcspStatus(again.Ok(0)));

        // A certificate never asked before cannot be answered without the responder.
        var fresh = await server.IssueContractAsync(OcppServerFixture.NewEmaid());
        var failed = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [StatusCall(fresh.Certificate, issuer, "")]));
        Assert.Equal("Failed", failed.Ok(0).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Foreign_responders_are_used_only_from_the_allow_list()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=Foreign MO Sub-CA,O=Elsewhere,DC=MO", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        using var caCert = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leafCert = new CertificateRequest("CN=DEXYZC00000001,DC=MO", leafKey, HashAlgorithmName.SHA256)
            .Create(caCert, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), [0x21, 0x42]);
        var ca = CertificateReader.ReadCertificate(caCert.RawData);
        var leaf = CertificateReader.ReadCertificate(leafCert.RawData);

        await using var responder = await OpensslOcspResponder.StartAsync(ca, ca, caKey.ExportPkcs8PrivateKeyPem(), [new(leaf, DateTimeOffset.UtcNow.AddHours(-2))]);
        server.Options.AllowedOcspResponders.Add(responder.Url);
        try
        {
            var id = await server.RegisterStationAsync();
            var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
            [
                StatusCall(leaf, ca, responder.Url.Replace("/ocsp", "/elsewhere")),
                StatusCall(leaf, ca, responder.Url.ToUpperInvariant().Replace("HTTP://", "http://")),
            ]));

            Assert.Equal("Failed", run.Ok(0).GetProperty("status").GetString());
            Assert.Equal("Accepted", run.Ok(1).GetProperty("status").GetString());
            Assert.Equal("revoked", OcspStatus(run.Ok(1)));
        }
        finally
        {
            server.Options.AllowedOcspResponders.Remove(responder.Url);
        }
    }

    [Fact]
    public async Task Malformed_CertIDs_answer_Failed()
    {
        var id = await server.RegisterStationAsync();
        var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            new { call = "GetCertificateStatus", @params = new { ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = "abcd", issuerKeyHash = new string('0', 64), serialNumber = "01", responderURL = "http://127.0.0.1:9/" } } },
            new { call = "GetCertificateStatus", @params = new { ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = new string('0', 64), issuerKeyHash = new string('0', 64), serialNumber = "xyz", responderURL = "http://127.0.0.1:9/" } } },
        ]));
        Assert.Equal("Failed", run.Ok(0).GetProperty("status").GetString());
        Assert.Equal("Failed", run.Ok(1).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OCPP_21_chain_status_and_16_DataTransfer_use_the_same_sources()
    {
        var good = await server.IssueContractAsync(OcppServerFixture.NewEmaid());
        var revoked = await server.IssueContractAsync(OcppServerFixture.NewEmaid());
        await server.Ca.Revoker.RevokeAsync(MoSubCa2, revoked.Record.Serial, RevocationReason.KeyCompromise, "test");
        await server.Ca.Crls.GenerateAsync(MoSubCa2, "test");
        var issuer = await server.CaCertificateAsync(MoSubCa2);
        object Hash(Org.BouncyCastle.X509.X509Certificate c)
        {
            var (name, key, serial) = CertificateHashes.Of(c, issuer);
            return new { hashAlgorithm = "SHA256", issuerNameHash = name, issuerKeyHash = key, serialNumber = serial };
        }

        await using var responder = await OurResponderAsync(new(good.Certificate, null), new(revoked.Certificate, DateTimeOffset.UtcNow.AddMinutes(-5)));
        var id = await server.RegisterStationAsync();
        var run21 = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.1",
        [
            new
            {
                call = "GetCertificateChainStatus",
                @params = new
                {
                    certificateStatusRequests = new object[]
                    {
                        new { certificateHashData = Hash(good.Certificate), source = "OCSP", urls = new[] { "http://ignored.invalid/" } },
                        new { certificateHashData = Hash(revoked.Certificate), source = "CRL", urls = new[] { "http://ignored.invalid/crl" } },
                        new { certificateHashData = new { hashAlgorithm = "SHA256", issuerNameHash = new string('1', 64), issuerKeyHash = new string('2', 64), serialNumber = "5" }, source = "CRL", urls = new[] { "http://ignored.invalid/crl" } },
                    },
                },
            },
        ]));
        var statuses = run21.Ok(0).GetProperty("certificateStatus").EnumerateArray().ToList();
        Assert.Equal(["Good", "Revoked", "Failed"], statuses.Select(s => s.GetProperty("status").GetString()));
        Assert.True(DateTimeOffset.Parse(statuses[0].GetProperty("nextUpdate").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow);
        Assert.True(DateTimeOffset.Parse(statuses[1].GetProperty("nextUpdate").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddDays(1));

        var (n, k, s) = CertificateHashes.Of(good.Certificate, issuer);
        var data = JsonSerializer.Serialize(new { ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = n, issuerKeyHash = k, serialNumber = s, responderURL = "http://x.invalid" } });
        var run16 = await NodeStation.RunAsync(server.StationConfig(id, "ocpp1.6",
            [new { call = "DataTransfer", @params = new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "GetCertificateStatus", data } }]));
        var inner = JsonDocument.Parse(run16.Ok(0).GetProperty("data").GetString()!).RootElement;
        Assert.Equal("Accepted", inner.GetProperty("status").GetString());
        Assert.Equal("good", OcspStatus(inner));
    }
}
