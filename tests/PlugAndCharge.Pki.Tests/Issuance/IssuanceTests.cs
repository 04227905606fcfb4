using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1.X509;
using X509CertificateParser = Org.BouncyCastle.X509.X509CertificateParser;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Core.Identifiers;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Issuance;

/// <summary>A whole development hierarchy in memory, shared by the tests of this class (creating 11 CAs takes a moment).</summary>
public sealed class DevPkiFixture : IAsyncLifetime
{
    public CertificateAuthorityServices Ca { get; } = CertificateAuthorityServices.InMemory();
    public Task InitializeAsync() => DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "test");
    public Task DisposeAsync() => Task.CompletedTask;
}

public class IssuanceTests(DevPkiFixture fx) : IClassFixture<DevPkiFixture>
{
    private CertificateAuthorityServices Ca => fx.Ca;

    internal static byte[] Csr(ECDsa key, string subject)
    {
        var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        return req.CreateSigningRequest();
    }

    private async Task<IssuedCertificate> IssueContract(string emaid, ECDsa? key = null)
    {
        key ??= ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return await Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = Csr(key, $"CN={emaid}, O=Test eMSP, C=DE, DC=MO"), Actor = "test",
        });
    }

    [Fact]
    public async Task A_contract_certificate_chains_to_the_MO_root_under_openssl()
    {
        var issued = await IssueContract(Emaid.Create("DE", "8AA", "C00000017").Normalized);
        Assert.True(issued.Certificate.GetEncoded().Length <= 800);
        var dir = OpenSsl.TempDir();
        var root = issued.IssuerChain[^1];
        var trust = OpenSsl.WritePem(dir, "root.pem", root);
        var chain = OpenSsl.WritePem(dir, "chain.pem", issued.IssuerChain.Take(issued.IssuerChain.Count - 1).ToArray());
        var leaf = OpenSsl.WritePem(dir, "leaf.pem", issued.Certificate);
        var (code, output) = OpenSsl.Run("verify", "-x509_strict", "-CAfile", trust, "-untrusted", chain, leaf);
        Assert.True(code == 0, output);
        Assert.Equal(3, issued.IssuerChain.Count);
    }

    [Fact]
    public async Task Every_CA_and_OCSP_signer_certificate_of_the_hierarchy_verifies_under_openssl()
    {
        var dir = OpenSsl.TempDir();
        foreach (var ca in await Ca.CaStore.ListAsync())
        {
            var authority = await Ca.Authorities.GetAsync(ca.Id);
            var all = authority.ChainIncludingSelf;
            var trust = OpenSsl.WritePem(dir, ca.Id + "-root.pem", all[^1]);
            var untrusted = OpenSsl.WritePem(dir, ca.Id + "-chain.pem", all.ToArray());
            var (code, output) = OpenSsl.Run("verify", "-x509_strict", "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, ca.Id + ".pem", authority.Certificate));
            Assert.True(code == 0, ca.Id + ": " + output);
            var signer = await Ca.Certificates.GetAsync(ca.Id, ca.OcspSignerSerial!);
            Assert.NotNull(signer);
            var signerCert = new X509CertificateParser().ReadCertificate(signer!.Der);
            (code, output) = OpenSsl.Run("verify", "-x509_strict", "-purpose", "ocsphelper", "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, ca.Id + "-ocsp.pem", signerCert));
            Assert.True(code == 0, ca.Id + " OCSP signer: " + output);
        }
    }

    [Fact]
    public async Task A_revoked_certificate_is_listed_in_a_CRL_that_openssl_verifies_and_openssl_refuses_it()
    {
        var good = await IssueContract(Emaid.Create("DE", "8AA", "C00000025").Normalized);
        var bad = await IssueContract(Emaid.Create("DE", "8AA", "C00000033").Normalized);
        var first = await Ca.Revoker.RevokeAsync("iso2-mo-subca2", bad.Record.Serial, RevocationReason.KeyCompromise, "test");
        var again = await Ca.Revoker.RevokeAsync("iso2-mo-subca2", bad.Record.Serial, RevocationReason.Superseded, "test");
        Assert.False(first.AlreadyRevoked);
        Assert.True(again.AlreadyRevoked);
        Assert.Equal(RevocationReason.KeyCompromise, again.Reason);

        var dir = OpenSsl.TempDir();
        var crls = new List<byte[]>();
        foreach (var caId in new[] { "iso2-mo-root", "iso2-mo-subca1", "iso2-mo-subca2" })
            crls.Add((await Ca.Crls.GenerateAsync(caId, "test")).Der);
        var crl1 = (await Ca.Crls.GenerateAsync("iso2-mo-subca2", "test"));
        Assert.True(crl1.Number > 1);
        crls[2] = crl1.Der;
        var crlFile = OpenSsl.WriteCrlPem(dir, "crls.pem", crls.ToArray());
        var trust = OpenSsl.WritePem(dir, "root.pem", good.IssuerChain[^1]);
        var untrusted = OpenSsl.WritePem(dir, "chain.pem", good.IssuerChain.Take(2).ToArray());
        var caFile = OpenSsl.WritePem(dir, "sub2.pem", good.IssuerChain[0]);
        var (crlCode, crlOut) = OpenSsl.Run("crl", "-in", OpenSsl.WriteCrlPem(dir, "one.pem", crl1.Der), "-noout", "-verify", "-CAfile", caFile);
        Assert.True(crlCode == 0 && crlOut.Contains("verify OK"), crlOut);

        var (okCode, okOut) = OpenSsl.Run("verify", "-crl_check_all", "-CRLfile", crlFile, "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, "good.pem", good.Certificate));
        Assert.True(okCode == 0, okOut);
        var (badCode, badOut) = OpenSsl.Run("verify", "-crl_check_all", "-CRLfile", crlFile, "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, "bad.pem", bad.Certificate));
        Assert.NotEqual(0, badCode);
        Assert.Contains("revoked", badOut);
        var (_, text) = OpenSsl.Run("crl", "-in", OpenSsl.WriteCrlPem(dir, "t.pem", crl1.Der), "-noout", "-text");
        Assert.Contains("Key Compromise", text);
        Assert.Contains("X509v3 CRL Number", text);
        Assert.Contains("Authority Key Identifier", text);
    }

    [Fact]
    public async Task Profile_rules_refuse_bad_requests_with_named_errors()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        async Task<PkiError> Fails(IssuanceRequest r) => (await Assert.ThrowsAsync<PkiException>(() => Ca.Issuer.IssueAsync(r))).Error;

        // CN must be a valid EMAID.
        Assert.Equal(PkiError.LintFailed, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = Csr(key, "CN=not-an-emaid, DC=MO"), Actor = "t" }));
        // Wrong DC.
        Assert.Equal(PkiError.LintFailed, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = Csr(key, $"CN={Emaid.Create("DE", "8AA", "C00000017").Normalized}, DC=CPO"), Actor = "t" }));
        // P-384 key on a -2 profile.
        Assert.Equal(PkiError.KeyNotAllowed, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = Csr(ECDsa.Create(ECCurve.NamedCurves.nistP384), "CN=DE8AAC000000017, DC=MO"), Actor = "t" }));
        // A root signs only sub-CAs [V2G2 Annex F].
        Assert.Equal(PkiError.IssuerNotAllowed, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-root", Csr = Csr(key, "CN=DE8AAC000000017, DC=MO"), Actor = "t" }));
        // Tampered CSR signature.
        var csr = Csr(key, "CN=DE8AAC000000017, DC=MO");
        csr[^3] ^= 0x55;
        Assert.Contains(await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = csr, Actor = "t" }), new[] { PkiError.BadCsrSignature, PkiError.BadCsr });
        // Garbage.
        Assert.Equal(PkiError.BadCsr, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = [1, 2, 3], Actor = "t" }));
        // Validity beyond the profile.
        Assert.Equal(PkiError.ValidityNotAllowed, await Fails(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = Csr(key, "CN=DE8AAC000000017, DC=MO"), Validity = TimeSpan.FromDays(5000), Actor = "t" }));
    }

    [Fact]
    public async Task Issued_certificates_carry_the_profile_extensions_and_a_16_byte_positive_serial()
    {
        var issued = await IssueContract(Emaid.Create("DE", "8AA", "C00000041").Normalized);
        var c = issued.Certificate;
        Assert.True(c.SerialNumber.SignValue > 0);
        Assert.Equal(16, c.SerialNumber.ToByteArrayUnsigned().Length);
        Assert.False(c.GetBasicConstraints() >= 0);
        Assert.True(c.GetCriticalExtensionOids().Contains(X509Extensions.KeyUsage.Id));
        Assert.True(c.GetCriticalExtensionOids().Contains(X509Extensions.BasicConstraints.Id));
        var ku = c.GetKeyUsage();
        Assert.True(ku[0] && ku[1] && ku[2] && ku[4]);
        Assert.NotNull(c.GetExtensionValue(X509Extensions.AuthorityInfoAccess));
        Assert.NotNull(c.GetExtensionValue(X509Extensions.CrlDistributionPoints));
        Assert.Empty(CertificateLinter.Lint(c.TbsCertificate, Ca.Profiles.Get("iso2/contract")));
        var stored = await Ca.Certificates.GetAsync("iso2-mo-subca2", issued.Record.Serial);
        Assert.Equal(CertificateStatus.Valid, stored!.Status);
    }

    [Fact]
    public async Task A_sub_CA_can_be_signed_from_a_CSR_in_an_offline_root_ceremony()
    {
        using var subKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = Csr(subKey, "CN=Offline MO Sub-CA 1, O=Ceremony, DC=MO");
        var sub = await Ca.Hierarchy.CreateSubCaAsync("ceremony-mo-subca1", "iso2/mo-subca1", "iso2-mo-root", null, "memory:not-here", KeyAlgorithm.EcP256, csr, "operator");
        Assert.Equal(1, sub.Certificate.GetBasicConstraints());
        Assert.Equal(subKey.ExportSubjectPublicKeyInfo(), sub.Certificate.SubjectPublicKeyInfo.GetEncoded());
    }

    [Fact]
    public async Task The_audit_chain_verifies_and_detects_an_edited_entry()
    {
        await IssueContract(Emaid.Create("DE", "8AA", "C00000058").Normalized);
        var ok = await Audit.AuditChain.VerifyAsync(Ca.Audit.ReadAllAsync());
        Assert.True(ok.Intact, ok.Detail);
        Assert.True(ok.Entries > 20);
        var store = (InMemoryPkiStore)Ca.Audit;
        var copy = CertificateAuthorityServices.InMemory();
        var s2 = (InMemoryPkiStore)copy.Audit;
        await s2.AppendAsync(new AuditEvent("a", "x", "1"));
        await s2.AppendAsync(new AuditEvent("a", "y", "2"));
        s2.TamperWith(0, e => e with { Actor = "mallory" });
        var bad = await Audit.AuditChain.VerifyAsync(s2.ReadAllAsync());
        Assert.False(bad.Intact);
        Assert.Equal(1, bad.FirstBadSequence);
        _ = store;
    }
}
