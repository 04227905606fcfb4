using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;
using Xunit;

namespace PlugAndCharge.Pki.KeyBackends.Tests;

/// <summary>
/// The proof for a key backend: an MO hierarchy whose CA keys live in the backend (root generated there; sub-CA 1
/// from a CSR its backend key signed, the offline-root ceremony; sub-CA 2 generated there), contract certificates
/// issued by sub-CA 2, one revoked, and CRLs from every CA, all verified by openssl.
/// </summary>
internal static class HierarchyProof
{
    public sealed record Result(IReadOnlyList<CreatedCa> Cas, string OpenSslOutput);

    /// <param name="keyUri">The backend's key URI for a CA name (e.g. pkcs11:token=pnc;object=NAME).</param>
    public static async Task<Result> ProveAsync(IKeyProvider backend, string standard, KeyAlgorithm algorithm, Func<string, string> keyUri)
    {
        var store = new InMemoryPkiStore(TimeProvider.System);
        using var keys = new KeyProviderRegistry([backend, new SoftwareKeyProvider(null, null)]);
        var ca = new CertificateAuthorityServices(store, store, store, keys);
        var run = Guid.NewGuid().ToString("N")[..8];
        var layout = DevelopmentHierarchy.Layout(standard).Where(n => n.Id.Contains("-mo-", StringComparison.Ordinal)).ToList();
        string Id(DevelopmentHierarchy.Node n) => $"{n.Id}-{run}";

        var root = layout.Single(n => n.Parent == null);
        var sub1 = layout.Single(n => n.Id.EndsWith("mo-subca1", StringComparison.Ordinal));
        var sub2 = layout.Single(n => n.Id.EndsWith("mo-subca2", StringComparison.Ordinal));
        var created = new List<CreatedCa>
        {
            await ca.Hierarchy.CreateRootAsync(Id(root), root.Profile, root.Subject, keyUri(Id(root)), algorithm, "test"),
        };
        // Offline-root ceremony: the sub-CA key is made in the backend, which signs the CSR; the root signs the CSR.
        var sub1Uri = keyUri(Id(sub1));
        var sub1Key = await keys.GenerateAsync(KeyUri.Parse(sub1Uri), algorithm);
        var csr = await CsrAsync(sub1Key, sub1.Subject);
        created.Add(await ca.Hierarchy.CreateSubCaAsync(Id(sub1), sub1.Profile, Id(root), null, sub1Uri, algorithm, csr, "test"));
        created.Add(await ca.Hierarchy.CreateSubCaAsync(Id(sub2), sub2.Profile, Id(sub1), sub2.Subject, keyUri(Id(sub2)), algorithm, null, "test"));
        Assert.Equal(PublicKeys.KeyIdentifier(sub1Key.PublicKey), PublicKeys.KeyIdentifier(created[1].Certificate.SubjectPublicKeyInfo));

        async Task<Issuance.IssuedCertificate> Contract(string emaid)
        {
            var leafKey = await keys.GenerateAsync(KeyUri.Parse($"memory:leaf-{Guid.NewGuid():N}"), algorithm);
            return await ca.Issuer.IssueAsync(new Issuance.IssuanceRequest
            {
                ProfileId = $"{standard}/contract", IssuerId = Id(sub2), PublicKey = leafKey.PublicKey,
                Subject = new X509Name($"CN={emaid},O=Key Backend Test,C=DE,DC=MO"), Actor = "test",
            });
        }
        var good = await Contract(Emaid.Create("DE", "8AA", "C00000017").Normalized);
        var bad = await Contract(Emaid.Create("DE", "8AA", "C00000025").Normalized);
        await ca.Revoker.RevokeAsync(Id(sub2), bad.Record.Serial, RevocationReason.KeyCompromise, "test");
        var crls = new List<byte[]>();
        foreach (var c in created) crls.Add((await ca.Crls.GenerateAsync(c.Record.Id, "test")).Der);

        var dir = OpenSsl.TempDir();
        try
        {
            var trust = OpenSsl.WritePem(dir, "root.pem", created[0].Certificate);
            var untrusted = OpenSsl.WritePem(dir, "chain.pem", created[1].Certificate, created[2].Certificate);
            var crlFile = OpenSsl.WriteCrlPem(dir, "crls.pem", crls.ToArray());
            var output = new System.Text.StringBuilder();
            for (var i = 0; i < created.Count; i++)
            {
                // Each CRL verifies under the certificate of the CA whose key signed it.
                var (code, text) = OpenSsl.Run("crl", "-in", OpenSsl.WriteCrlPem(dir, $"crl{i}.pem", crls[i]), "-noout", "-verify", "-CAfile", OpenSsl.WritePem(dir, $"ca{i}.pem", created[i].Certificate));
                Assert.True(code == 0 && text.Contains("verify OK", StringComparison.Ordinal), $"CRL of {created[i].Record.Id}: {text}");
                output.Append(text);
            }
            var (okCode, okOut) = OpenSsl.Run("verify", "-x509_strict", "-crl_check_all", "-CRLfile", crlFile, "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, "good.pem", good.Certificate));
            Assert.True(okCode == 0, okOut);
            output.Append(okOut);
            var (badCode, badOut) = OpenSsl.Run("verify", "-x509_strict", "-crl_check_all", "-CRLfile", crlFile, "-CAfile", trust, "-untrusted", untrusted, OpenSsl.WritePem(dir, "bad.pem", bad.Certificate));
            Assert.NotEqual(0, badCode);
            Assert.Contains("revoked", badOut);
            return new Result(created, output.ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A PKCS#10 request signed by a backend key (RFC 2986 §4.2): the CSR an operator takes to an offline root.</summary>
    public static Task<byte[]> CsrAsync(ISigningKey key, string subject) => Issuance.CsrWriter.CreateAsync(key, subject);
}
