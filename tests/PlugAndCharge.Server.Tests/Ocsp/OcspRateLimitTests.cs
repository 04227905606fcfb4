using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Asn1;
using OcspObjectIdentifiers = Org.BouncyCastle.Asn1.Ocsp.OcspObjectIdentifiers;
using OcspResponseStatus = Org.BouncyCastle.Asn1.Ocsp.OcspResponseStatus;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using PlugAndCharge.Pki.Ocsp;
using PlugAndCharge.Server.Api.Ocsp;
using Xunit;

namespace PlugAndCharge.Server.Tests.Ocsp;

/// <summary>
/// Answers signed on the spot (nonces, cache misses) are rate-limited per client: past the budget the client gets
/// tryLater (RFC 6960 §2.3), while a pre-signed cached answer is still served.
/// </summary>
public sealed class OcspRateLimitTests(OcspServerFixture fx) : IClassFixture<OcspServerFixture>
{
    [Fact]
    public async Task A_client_past_its_signing_budget_gets_tryLater_and_cached_answers_still_flow()
    {
        using var responder = new OcspResponder(fx.Ca, new OcspOptions { OnDemandSignaturesPerClientPerSecond = 2, OnDemandSignaturesPerSecond = 0 });
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapOcspEndpoints(responder, TimeProvider.System);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        var (issued, _) = await fx.IssueContractAsync();
        async Task<int> Ask(byte[]? nonce)
        {
            var g = new OcspReqGenerator();
            g.AddRequest(new CertificateID(new AlgorithmIdentifier(new DerObjectIdentifier("1.3.14.3.2.26"), DerNull.Instance), issued.IssuerChain[0], issued.Certificate.SerialNumber));
            if (nonce != null)
            {
                var ext = new X509ExtensionsGenerator();
                ext.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(nonce));
                g.SetRequestExtensions(ext.Generate());
            }
            using var body = new ByteArrayContent(g.Generate().GetEncoded());
            body.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
            using var response = await http.PostAsync($"/ocsp/{OcspServerFixture.MoSubCa}", body);
            return new OcspResp(await response.Content.ReadAsByteArrayAsync()).Status;
        }

        Assert.Equal(OcspResponseStatus.Successful, await Ask(null)); // signed once, then cached
        var statuses = new List<int>();
        for (var i = 0; i < 12; i++) statuses.Add(await Ask(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        Assert.Contains(OcspResponseStatus.TryLater, statuses);
        Assert.Contains(OcspResponseStatus.Successful, statuses); // the burst allowance was served first
        Assert.DoesNotContain(statuses, s => s != OcspResponseStatus.TryLater && s != OcspResponseStatus.Successful);
        Assert.Equal(OcspResponseStatus.Successful, await Ask(null)); // the cached answer costs no signature
    }
}
