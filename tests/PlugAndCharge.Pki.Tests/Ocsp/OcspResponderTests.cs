using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;
using PlugAndCharge.Pki.Ocsp;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.X509;
using Xunit;
using OcspResponseStatus = PlugAndCharge.Pki.Ocsp.OcspResponseStatus;

namespace PlugAndCharge.Pki.Tests.Ocsp;

public class OcspResponderTests(OcspTestPki pki) : IClassFixture<OcspTestPki>, IDisposable
{
    // Polling is driven by hand here (RefreshFromStoreAsync); the timer's interval is set out of the way.
    private readonly OcspResponder _responder = new(pki.Ca, new OcspOptions { RevocationPollInterval = TimeSpan.FromHours(1) }, pki.Clock);

    public void Dispose() => _responder.Dispose();

    private async Task<BasicOcspResp> AskAsync(byte[] request, string caId = OcspTestPki.MoSubCa)
    {
        var answer = await _responder.RespondAsync(caId, request);
        Assert.Equal(OcspResponseStatus.Successful, answer.Status);
        return OcspTestPki.Verified(answer.Der);
    }

    [Theory]
    [InlineData("1.3.14.3.2.26")]
    [InlineData("2.16.840.1.101.3.4.2.1")]
    [InlineData("2.16.840.1.101.3.4.2.2")]
    [InlineData("2.16.840.1.101.3.4.2.3")]
    public async Task An_issued_certificate_is_good_under_each_CertID_hash(string hash)
    {
        var issued = await pki.IssueContractAsync();
        var issuer = issued.IssuerChain[0];
        var basic = await AskAsync(OcspTestPki.Request(issuer, issued.Certificate.SerialNumber, hash));
        var single = Assert.Single(basic.Responses);
        Assert.Null(single.GetCertStatus()); // BouncyCastle's "good"
        Assert.True(single.GetCertID().MatchesIssuer(issuer), "the CertID is echoed for this issuer");
        Assert.Equal(issued.Certificate.SerialNumber, single.GetCertID().SerialNumber);
        Assert.Equal(hash, single.GetCertID().HashAlgOid);
        Assert.True(single.NextUpdate > single.ThisUpdate);
        // ResponderID byKey names the delegated signer, whose certificate is the one sent (RFC 6960 §4.2.2.2).
        var signer = basic.GetCerts()[0];
        Assert.Equal(new RespID(signer.GetPublicKey()), basic.ResponderId);
        Assert.Equal(2, ((Asn1TaggedObject)basic.ResponderId.ToAsn1Object().ToAsn1Object()).TagNo); // byKey [2]
        Assert.Contains(Org.BouncyCastle.Asn1.X509.KeyPurposeID.id_kp_OCSPSigning, signer.GetExtendedKeyUsage());
        Assert.Equal(issuer.SubjectDN, signer.IssuerDN);
    }

    [Fact]
    public async Task A_certificate_this_process_revokes_is_revoked_with_time_and_reason_at_once()
    {
        var issued = await pki.IssueContractAsync();
        var request = OcspTestPki.Request(issued.IssuerChain[0], issued.Certificate.SerialNumber);
        Assert.Null((await AskAsync(request)).Responses[0].GetCertStatus()); // good, and now cached
        // The revoker tells this process's responder (the poll is an hour away here).
        var outcome = await pki.Ca.Revoker.RevokeAsync(OcspTestPki.MoSubCa, issued.Record.Serial, RevocationReason.KeyCompromise, "test");
        var status = Assert.IsType<RevokedStatus>((await AskAsync(request)).Responses[0].GetCertStatus());
        Assert.Equal(Org.BouncyCastle.Asn1.X509.CrlReason.KeyCompromise, status.RevocationReason);
        Assert.Equal(outcome.RevokedAt!.Value.UtcDateTime.AddTicks(-(outcome.RevokedAt!.Value.UtcTicks % TimeSpan.TicksPerSecond)), status.RevocationTime); // GeneralizedTime in whole seconds
    }

    [Fact]
    public async Task A_revocation_by_another_process_drops_the_cached_good_on_the_next_poll()
    {
        var issued = await pki.IssueContractAsync();
        var request = OcspTestPki.Request(issued.IssuerChain[0], issued.Certificate.SerialNumber, OcspTestPki.Sha256);
        var first = await _responder.RespondAsync(OcspTestPki.MoSubCa, request);
        Assert.Same(first.Der, (await _responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der); // pre-signed and cached
        // Revoked through the store only, as `pnc cert revoke` or another instance does: this responder is not told.
        await pki.Ca.Certificates.RevokeAsync(OcspTestPki.MoSubCa, issued.Record.Serial, RevocationReason.Unspecified, pki.Clock.GetUtcNow(),
            new PlugAndCharge.Pki.Stores.AuditEvent("another-instance", "certificate.revoke", $"{OcspTestPki.MoSubCa}/{issued.Record.Serial}", new Dictionary<string, string>()));
        Assert.Same(first.Der, (await _responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der);
        await _responder.RefreshFromStoreAsync();
        var status = Assert.IsType<RevokedStatus>((await AskAsync(request)).Responses[0].GetCertStatus());
        Assert.False(status.HasRevocationReason); // unspecified is left out, as in CRLs
    }

    [Fact]
    public async Task A_serial_never_issued_and_a_CertID_of_another_issuer_are_unknown_never_good()
    {
        var issued = await pki.IssueContractAsync();
        var issuer = issued.IssuerChain[0];
        var basic = await AskAsync(OcspTestPki.Request(issuer, SerialNumbers.NewRandom()));
        Assert.IsType<UnknownStatus>(basic.Responses[0].GetCertStatus());
        // The right serial under another CA's name and key, and a right CA asked at the wrong responder.
        var other = await pki.CaCertificateAsync("iso2-cpo-subca2");
        Assert.IsType<UnknownStatus>((await AskAsync(OcspTestPki.Request(other, issued.Certificate.SerialNumber))).Responses[0].GetCertStatus());
        Assert.IsType<UnknownStatus>((await AskAsync(OcspTestPki.Request(issuer, issued.Certificate.SerialNumber), "iso2-cpo-subca2")).Responses[0].GetCertStatus());
        // An unsupported CertID hash cannot be matched to us: unknown.
        Assert.IsType<UnknownStatus>((await AskAsync(OcspTestPki.Request(issuer, issued.Certificate.SerialNumber, "1.2.840.113549.2.5"))).Responses[0].GetCertStatus());
    }

    [Fact]
    public async Task Several_CertIDs_are_answered_in_order_and_the_nonce_is_echoed()
    {
        var good = await pki.IssueContractAsync();
        var revoked = await pki.IssueContractAsync();
        await pki.Ca.Revoker.RevokeAsync(OcspTestPki.MoSubCa, revoked.Record.Serial, RevocationReason.Superseded, "test");
        await _responder.RefreshFromStoreAsync();
        var issuer = good.IssuerChain[0];
        var nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var request = OcspTestPki.Request([(issuer, good.Certificate.SerialNumber, OcspTestPki.Sha1), (issuer, revoked.Certificate.SerialNumber, OcspTestPki.Sha256),
            (issuer, BigInteger.ValueOf(12345), OcspTestPki.Sha384)], nonce);
        var basic = await AskAsync(request);
        Assert.Equal(3, basic.Responses.Length);
        Assert.Null(basic.Responses[0].GetCertStatus());
        Assert.Equal(Org.BouncyCastle.Asn1.X509.CrlReason.Superseded, Assert.IsType<RevokedStatus>(basic.Responses[1].GetCertStatus()).RevocationReason);
        Assert.IsType<UnknownStatus>(basic.Responses[2].GetCertStatus());
        var echoed = Asn1OctetString.GetInstance(basic.GetExtensionValue(OcspObjectIdentifiers.PkixOcspNonce)).GetOctets();
        Assert.Equal(nonce, Asn1OctetString.GetInstance(echoed).GetOctets());
        // With a nonce the answer is signed for this request: never the same bytes twice.
        Assert.NotEqual((await _responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der, (await _responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der);
    }

    [Fact]
    public async Task Malformed_input_is_malformedRequest_and_an_unknown_CA_is_unauthorized()
    {
        var issuer = await pki.CaCertificateAsync(OcspTestPki.MoSubCa);
        var good = OcspTestPki.Request(issuer, BigInteger.One);
        byte[] Malformed = [0x30, 0x03, 0x0A, 0x01, 0x01];
        Assert.Equal(Malformed, (await _responder.RespondAsync(OcspTestPki.MoSubCa, Array.Empty<byte>())).Der);
        Assert.Equal(Malformed, (await _responder.RespondAsync(OcspTestPki.MoSubCa, "garbage"u8.ToArray())).Der);
        Assert.Equal(Malformed, (await _responder.RespondAsync(OcspTestPki.MoSubCa, good[..^3])).Der);
        Assert.Equal(Malformed, (await _responder.RespondAsync(OcspTestPki.MoSubCa, new byte[70_000])).Der);
        Assert.Equal(Malformed, (await _responder.RespondAsync(OcspTestPki.MoSubCa, OcspTestPki.Request(issuer, BigInteger.One, nonce: new byte[33]))).Der);
        byte[] Unauthorized = [0x30, 0x03, 0x0A, 0x01, 0x06];
        Assert.Equal(Unauthorized, (await _responder.RespondAsync("no-such-ca", good)).Der);
        Assert.Equal(Unauthorized, (await _responder.RespondAsync("../../etc/passwd", good)).Der);
    }

    [Fact]
    public async Task A_cached_answer_is_re_signed_after_half_its_validity()
    {
        var options = new OcspOptions { ResponseValidity = TimeSpan.FromHours(10), RevocationPollInterval = TimeSpan.FromHours(1) };
        var clock = new ManualClock(pki.Clock.Now);
        using var responder = new OcspResponder(pki.Ca, options, clock);
        var issued = await pki.IssueContractAsync();
        var request = OcspTestPki.Request(issued.IssuerChain[0], issued.Certificate.SerialNumber);
        var first = await responder.RespondAsync(OcspTestPki.MoSubCa, request);
        Assert.InRange(first.Cached!.RefreshAt - clock.Now.AddHours(5), TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
        clock.Now = clock.Now.AddHours(4);
        Assert.Same(first.Der, (await responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der);
        clock.Now = clock.Now.AddHours(2); // past half-life: the old answer is still served while a new one is signed
        Assert.Same(first.Der, (await responder.RespondAsync(OcspTestPki.MoSubCa, request)).Der);
        OcspAnswer latest = default;
        for (var i = 0; i < 100; i++)
        {
            latest = await responder.RespondAsync(OcspTestPki.MoSubCa, request);
            if (!ReferenceEquals(latest.Der, first.Der)) break;
            await Task.Delay(20);
        }
        Assert.NotSame(first.Der, latest.Der);
        var single = OcspTestPki.Verified(latest.Der).Responses[0];
        Assert.Equal(clock.Now.UtcDateTime.AddTicks(-(clock.Now.UtcTicks % TimeSpan.TicksPerSecond)), single.ThisUpdate);
        Assert.Equal(single.ThisUpdate.AddHours(10), single.NextUpdate);
    }

    [Fact]
    public async Task A_CA_without_a_delegated_signer_signs_with_its_own_key()
    {
        var ca = CertificateAuthorityServices.InMemory(pki.Clock);
        await ca.Hierarchy.CreateRootAsync("bare-root", "iso2/mo-root", "CN=Bare MO Root,O=Test,C=DE,DC=MO", "memory:bare-root", Keys.KeyAlgorithm.EcP256, "test");
        using var responder = new OcspResponder(ca, clock: pki.Clock);
        var root = (await ca.Authorities.GetAsync("bare-root")).Certificate;
        var answer = await responder.RespondAsync("bare-root", OcspTestPki.Request(root, root.SerialNumber));
        var basic = (BasicOcspResp)new OcspResp(answer.Der).GetResponseObject();
        Assert.Empty(basic.GetCerts());
        Assert.True(basic.Verify(root.GetPublicKey()));
        Assert.Null(basic.Responses[0].GetCertStatus());
    }
}
