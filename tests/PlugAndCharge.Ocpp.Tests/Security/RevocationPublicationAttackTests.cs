using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.Security;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Validation;
using Xunit;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace PlugAndCharge.Ocpp.Tests.Security;

/// <summary>
/// Issue 21 finding 10: an answer from a configured foreign OCSP responder counts only when the CA that issued the
/// certificate signed it, or a delegated responder that CA certified for id-kp-OCSPSigning (RFC 6960 §4.2.2.2), and
/// only for the CertID asked. The station asks over OCPP (GetCertificateStatus, the real ocpp-rpc client) and gets
/// Failed for every forgery; a valid answer is cached no longer than the configured cap.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class RevocationPublicationAttackTests(OcppServerFixture server)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    /// <summary>A foreign CA (self-signed, as a sub-CA of another PKI looks to us) and a way to issue under it.</summary>
    private sealed class ForeignCa : IDisposable
    {
        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public X509Certificate2 Certificate { get; }
        public BcCertificate Bc => CertificateReader.ReadCertificate(Certificate.RawData);
        private int _serial = 0x100;

        public ForeignCa(string name)
        {
            var req = new CertificateRequest($"CN={name},O=Elsewhere,DC=MO", Key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            Certificate = req.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(1));
        }

        /// <summary>A leaf (contract or OCSP responder) issued by this CA.</summary>
        public (BcCertificate Cert, ECDsa Key) Issue(string subject, bool ocspSigning = false)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            if (ocspSigning) req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.9")], false));
            var serial = BitConverter.GetBytes(Interlocked.Increment(ref _serial)).Reverse().ToArray();
            using var cert = req.Create(Certificate, Now.AddHours(-1), Now.AddDays(30), serial);
            return (CertificateReader.ReadCertificate(cert.RawData), key);
        }

        public void Dispose()
        {
            Key.Dispose();
            Certificate.Dispose();
        }
    }

    /// <summary>A BasicOCSPResponse "good" for the CertID of (issuer, serial), signed by <paramref name="signerKey"/>, carrying <paramref name="certs"/>.</summary>
    private static byte[] Response(BcCertificate issuer, BigInteger serial, ECDsa signerKey, BcCertificate responderId, BcCertificate[] certs, TimeSpan validFor)
    {
        var id = new CertificateID(new AlgorithmIdentifier(NistObjectIdentifiers.IdSha256), issuer, serial);
        var gen = new BasicOcspRespGenerator(new RespID(responderId.SubjectDN));
        gen.AddResponse(id, CertificateStatus.Good, Now.AddMinutes(-1).UtcDateTime, (Now + validFor).UtcDateTime, null);
        var key = PrivateKeyFactory.CreateKey(signerKey.ExportPkcs8PrivateKey());
        var basic = gen.Generate(new Asn1SignatureFactory("SHA256withECDSA", key), certs, DateTime.UtcNow);
        return new OCSPRespGenerator().Generate(OCSPRespGenerator.Successful, basic).GetEncoded();
    }

    private static object StatusCall(BcCertificate cert, BcCertificate issuer, string responderUrl)
    {
        var (name, key, serial) = CertificateHashes.Of(cert, issuer);
        return new { call = "GetCertificateStatus", @params = new { ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = name, issuerKeyHash = key, serialNumber = serial, responderURL = responderUrl } } };
    }

    /// <summary>What the station got for one GetCertificateStatus from a responder that answers <paramref name="answer"/>.</summary>
    private async Task<string> StatusFromAsync(FixedResponder responder, BcCertificate leaf, BcCertificate issuer)
    {
        server.Options.AllowedOcspResponders.Add(responder.Url);
        try
        {
            var id = await server.RegisterStationAsync();
            var run = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [StatusCall(leaf, issuer, responder.Url)]));
            return run.Ok(0).GetProperty("status").GetString()!;
        }
        finally
        {
            server.Options.AllowedOcspResponders.Remove(responder.Url);
        }
    }

    [Fact]
    public async Task Answers_not_signed_by_the_issuer_or_its_OCSP_signing_delegate_are_refused()
    {
        using var ca = new ForeignCa("Foreign MO Sub-CA");
        using var other = new ForeignCa("Unrelated CA");
        var issuer = ca.Bc;
        var results = new Dictionary<string, string>();

        // 1. An unrelated key with a self-signed certificate of its own in the response.
        var (leaf1, _) = ca.Issue("CN=DEXYZC00000011,DC=MO");
        using (var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            using var rogue = new CertificateRequest("CN=Foreign MO Sub-CA,O=Elsewhere,DC=MO", rogueKey, HashAlgorithmName.SHA256).CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
            var rogueBc = CertificateReader.ReadCertificate(rogue.RawData);
            using var r1 = FixedResponder.Start(Response(issuer, leaf1.SerialNumber, rogueKey, rogueBc, [rogueBc], TimeSpan.FromHours(1)));
            results["unrelated key"] = await StatusFromAsync(r1, leaf1, issuer);
        }

        // 2. A delegated OCSP signer certified by another CA (that CA's certificate in the response too).
        var (leaf2, _) = ca.Issue("CN=DEXYZC00000012,DC=MO");
        var (otherSigner, otherSignerKey) = other.Issue("CN=Other OCSP Signer,DC=MO", ocspSigning: true);
        using (otherSignerKey)
        using (var r2 = FixedResponder.Start(Response(issuer, leaf2.SerialNumber, otherSignerKey, otherSigner, [otherSigner, other.Bc], TimeSpan.FromHours(1))))
            results["delegate of another CA"] = await StatusFromAsync(r2, leaf2, issuer);

        // 3. A certificate of the right CA, but not certified for OCSPSigning.
        var (leaf3, _) = ca.Issue("CN=DEXYZC00000013,DC=MO");
        var (plain, plainKey) = ca.Issue("CN=Not An OCSP Signer,DC=MO");
        using (plainKey)
        using (var r3 = FixedResponder.Start(Response(issuer, leaf3.SerialNumber, plainKey, plain, [plain, issuer], TimeSpan.FromHours(1))))
            results["delegate without OCSPSigning"] = await StatusFromAsync(r3, leaf3, issuer);

        // 4. The issuer's own signature, but about another certificate (another CertID).
        var (leaf4, _) = ca.Issue("CN=DEXYZC00000014,DC=MO");
        using (var r4 = FixedResponder.Start(Response(issuer, leaf4.SerialNumber.Add(BigInteger.One), ca.Key, issuer, [issuer], TimeSpan.FromHours(1))))
            results["another CertID"] = await StatusFromAsync(r4, leaf4, issuer);

        Assert.True(results.Values.All(v => v == "Failed"), string.Join(", ", results.Select(r => $"{r.Key}: {r.Value}")));

        // The honest answers: signed by the issuer itself, and by a delegate it certified for OCSPSigning.
        var (leaf5, _) = ca.Issue("CN=DEXYZC00000015,DC=MO");
        using (var r5 = FixedResponder.Start(Response(issuer, leaf5.SerialNumber, ca.Key, issuer, [issuer], TimeSpan.FromHours(1))))
            Assert.Equal("Accepted", await StatusFromAsync(r5, leaf5, issuer));
        var (leaf6, _) = ca.Issue("CN=DEXYZC00000016,DC=MO");
        var (signer, signerKey) = ca.Issue("CN=Foreign OCSP Signer,DC=MO", ocspSigning: true);
        using (signerKey)
        using (var r6 = FixedResponder.Start(Response(issuer, leaf6.SerialNumber, signerKey, signer, [signer, issuer], TimeSpan.FromHours(1))))
            Assert.Equal("Accepted", await StatusFromAsync(r6, leaf6, issuer));
    }

    [Fact]
    public async Task A_responder_that_answers_503_once_is_asked_again_within_the_same_fetch()
    {
        using var ca = new ForeignCa("Foreign MO Sub-CA Retry");
        var issuer = ca.Bc;
        var (leaf, _) = ca.Issue("CN=DEXYZC00000031,DC=MO");
        using var responder = FixedResponder.Start(Response(issuer, leaf.SerialNumber, ca.Key, issuer, [issuer], TimeSpan.FromHours(1)), failFirst: 1);
        Assert.Equal("Accepted", await StatusFromAsync(responder, leaf, issuer));
        Assert.Equal(2, responder.Requests);
    }

    [Fact]
    public async Task A_valid_foreign_answer_is_cached_no_longer_than_the_cap()
    {
        using var ca = new ForeignCa("Foreign MO Sub-CA Cache");
        var issuer = ca.Bc;
        var (leaf, _) = ca.Issue("CN=DEXYZC00000021,DC=MO");
        var cap = server.Options.OcspCacheMaxAge;
        server.Options.OcspCacheMaxAge = TimeSpan.FromSeconds(2);
        using var responder = FixedResponder.Start(Response(issuer, leaf.SerialNumber, ca.Key, issuer, [issuer], TimeSpan.FromDays(7)));
        server.Options.AllowedOcspResponders.Add(responder.Url);
        try
        {
            var id = await server.RegisterStationAsync();
            async Task<string> Ask() =>
                (await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1", [StatusCall(leaf, issuer, responder.Url)]))).Ok(0).GetProperty("status").GetString()!;
            Assert.Equal("Accepted", await Ask());
            responder.Dispose(); // gone: only the cache can answer now
            var cachedAt = DateTimeOffset.UtcNow;
            var second = await Ask();
            if (DateTimeOffset.UtcNow - cachedAt < TimeSpan.FromSeconds(1.5)) Assert.Equal("Accepted", second);
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            Assert.Equal("Failed", await Ask()); // nextUpdate is 7 days away; the cap ended the cached answer
            Assert.Equal(1, responder.Requests);
        }
        finally
        {
            server.Options.AllowedOcspResponders.Remove(responder.Url);
            server.Options.OcspCacheMaxAge = cap;
        }
    }
}

/// <summary>An HTTP server on loopback that answers every POST with the same OCSP response bytes.</summary>
public sealed class FixedResponder : IDisposable
{
    private readonly HttpListener _listener = new();
    private int _requests;
    public string Url { get; }
    public int Requests => Volatile.Read(ref _requests);
    /// <summary>How many of the first requests get HTTP 503 instead of the response.</summary>
    public int FailFirst { get; init; }

    private FixedResponder(byte[] body)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/ocsp/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                var n = Interlocked.Increment(ref _requests);
                await ctx.Request.InputStream.CopyToAsync(Stream.Null);
                if (n <= FailFirst)
                {
                    ctx.Response.StatusCode = 503;
                    ctx.Response.Close();
                    continue;
                }
                ctx.Response.ContentType = "application/ocsp-response";
                ctx.Response.ContentLength64 = body.Length;
                await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
            }
        });
    }

    public static FixedResponder Start(byte[] body, int failFirst = 0) => new(body) { FailFirst = failFirst };

    public void Dispose()
    {
        if (!_listener.IsListening) return;
        _listener.Stop();
        _listener.Close();
    }
}
