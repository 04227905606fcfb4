using System.Net;
using System.Net.Http.Headers;
using Org.BouncyCastle.Math;
using PlugAndCharge.Pki.Revocation;
using Xunit;

namespace PlugAndCharge.Server.Tests.Ocsp;

/// <summary>The responder over HTTP with openssl and curl as the clients, over PostgreSQL.</summary>
public class OcspEndpointTests(OcspServerFixture fx) : IClassFixture<OcspServerFixture>
{
    private string Url => $"{fx.BaseUrl}/ocsp/{OcspServerFixture.MoSubCa}";

    private (int Code, string Output) OpensslOcsp(params string[] extra) =>
        Tool.Run("openssl", ["ocsp", "-issuer", fx.IssuerPem, "-CAfile", fx.TrustPem, "-url", Url, "-resp_text", .. extra]);

    [Fact]
    public async Task The_AIA_of_an_issued_certificate_names_this_responder_and_openssl_gets_good_verified()
    {
        var (_, pem) = await fx.IssueContractAsync();
        var (_, aia) = Tool.Run("openssl", "x509", "-noout", "-ocsp_uri", "-in", pem);
        Assert.Equal(Url, aia.Trim());
        var (code, output) = OpensslOcsp("-cert", pem);
        Assert.True(code == 0, output);
        Assert.Contains("Response verify OK", output);
        Assert.Contains($"{pem}: good", output);
        Assert.Matches(@"Responder Id: [0-9A-F]{40}\s", output); // ResponderID byKey: the SHA-1 of the signer's key
        Assert.DoesNotContain("WARNING", output); // the nonce openssl sent is echoed, the times are valid
    }

    [Fact]
    public async Task SHA256_CertIDs_and_several_certificates_in_one_request_are_answered()
    {
        var (_, a) = await fx.IssueContractAsync();
        var (_, b) = await fx.IssueContractAsync();
        var (code, output) = OpensslOcsp("-sha256", "-cert", a, "-cert", b, "-serial", "0x1234567890");
        Assert.True(code == 0, output);
        Assert.Contains("Response verify OK", output);
        Assert.Contains($"{a}: good", output);
        Assert.Contains($"{b}: good", output);
        Assert.Contains("0x1234567890: unknown", output);
        Assert.Contains("Hash Algorithm: sha256", output);
    }

    [Fact]
    public async Task A_revoked_certificate_is_revoked_with_reason_and_time_once_the_poll_sees_it()
    {
        var (issued, pem) = await fx.IssueContractAsync();
        Assert.Contains($"{pem}: good", OpensslOcsp("-cert", pem, "-no_nonce").Output); // cached good first
        // Revoked through the store, as another instance or `pnc cert revoke` would: the poll drops the cached good.
        await fx.Ca.Revoker.RevokeAsync(OcspServerFixture.MoSubCa, issued.Record.Serial, RevocationReason.KeyCompromise, "test");
        string output = "";
        for (var i = 0; i < 50 && !output.Contains($"{pem}: revoked"); i++)
        {
            await Task.Delay(100);
            output = OpensslOcsp("-cert", pem, "-no_nonce").Output;
        }
        Assert.Contains($"{pem}: revoked", output);
        Assert.Contains("Response verify OK", output);
        Assert.Contains("Reason: keyCompromise", output);
        Assert.Contains("Revocation Time:", output);
    }

    [Fact]
    public void A_serial_never_issued_is_unknown()
    {
        var (code, output) = OpensslOcsp("-serial", "0x7fffffffffffffffffff");
        Assert.True(code == 0, output);
        Assert.Contains("Response verify OK", output);
        Assert.Contains("0x7fffffffffffffffffff: unknown", output);
    }

    [Theory]
    [InlineData("percent")]
    [InlineData("bare")]
    [InlineData("url-safe")]
    public async Task GET_answers_with_RFC_5019_cache_headers_and_openssl_verifies_what_curl_fetched(string style)
    {
        var (_, pem) = await fx.IssueContractAsync();
        var req = Path.Combine(fx.Dir, $"req-{style}-{Guid.NewGuid():N}.der");
        var (code, output) = Tool.Run("openssl", "ocsp", "-issuer", fx.IssuerPem, "-cert", pem, "-no_nonce", "-reqout", req);
        Assert.True(code == 0, output);
        var b64 = Convert.ToBase64String(File.ReadAllBytes(req));
        var path = style switch
        {
            "percent" => Uri.EscapeDataString(b64), // %2B, %2F, %3D
            "bare" => b64,
            _ => b64.Replace('+', '-').Replace('/', '_').TrimEnd('='),
        };
        var resp = req + ".resp";
        var headers = req + ".headers";
        (code, output) = Tool.Run("curl", "-sS", "--path-as-is", "-D", headers, "-o", resp, $"{Url}/{path}");
        Assert.True(code == 0, output);
        var h = File.ReadAllText(headers);
        Assert.Contains("HTTP/1.1 200", h);
        Assert.Matches(@"(?im)^content-type: application/ocsp-response\r?$", h);
        Assert.Matches(@"(?im)^cache-control: max-age=\d+, public, no-transform, must-revalidate\r?$", h);
        Assert.Matches(@"(?im)^etag: ""[0-9a-f]+""\r?$", h);
        Assert.Matches(@"(?im)^last-modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r?$", h);
        Assert.Matches(@"(?im)^expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r?$", h);
        (code, output) = Tool.Run("openssl", "ocsp", "-respin", resp, "-issuer", fx.IssuerPem, "-cert", pem, "-CAfile", fx.TrustPem, "-resp_text");
        Assert.True(code == 0, output);
        Assert.Contains("Response verify OK", output);
        Assert.Contains($"{pem}: good", output);
    }

    [Fact]
    public async Task A_repeated_GET_with_the_ETag_is_not_modified()
    {
        var (_, pem) = await fx.IssueContractAsync();
        var req = Path.Combine(fx.Dir, $"req-{Guid.NewGuid():N}.der");
        Tool.Run("openssl", "ocsp", "-issuer", fx.IssuerPem, "-cert", pem, "-no_nonce", "-reqout", req);
        var der = File.ReadAllBytes(req);
        using var http = new HttpClient();
        var url = $"{Url}/{Uri.EscapeDataString(Convert.ToBase64String(der))}";
        var first = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;
        var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        var second = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(etag, second.Headers.ETag);
    }

    public static TheoryData<string, string, byte[], byte> BadRequests => new()
    {
        { "garbage", "application/ocsp-request", "not an OCSP request"u8.ToArray(), 1 },
        { "empty", "application/ocsp-request", [], 1 },
        { "truncated", "application/ocsp-request", [0x30, 0x82, 0x01, 0x00, 0x30], 1 },
        { "wrong content type", "text/plain", [0x30, 0x03, 0x30, 0x01, 0x00], 1 },
        { "oversize", "application/ocsp-request", new byte[70 * 1024], 1 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Malformed_POSTs_answer_malformedRequest_with_HTTP_200(string what, string contentType, byte[] body, byte status)
    {
        using var http = new HttpClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var response = await http.PostAsync(Url, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ocsp-response", response.Content.Headers.ContentType?.MediaType);
        var answer = await response.Content.ReadAsByteArrayAsync();
        Assert.True(answer.SequenceEqual(new byte[] { 0x30, 0x03, 0x0A, 0x01, status }), what);
    }

    [Fact]
    public async Task An_unknown_CA_is_unauthorized_and_a_broken_GET_is_malformed()
    {
        using var http = new HttpClient();
        var (_, pem) = await fx.IssueContractAsync();
        var req = Path.Combine(fx.Dir, $"req-{Guid.NewGuid():N}.der");
        Tool.Run("openssl", "ocsp", "-issuer", fx.IssuerPem, "-cert", pem, "-reqout", req);
        var content = new ByteArrayContent(File.ReadAllBytes(req));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        var response = await http.PostAsync($"{fx.BaseUrl}/ocsp/no-such-ca", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x06 }, await response.Content.ReadAsByteArrayAsync());
        foreach (var path in new[] { "%%%", "AAAA", "not-base64!", "" })
        {
            var get = await http.GetAsync($"{Url}/{path}");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x01 }, await get.Content.ReadAsByteArrayAsync());
        }
    }
}
