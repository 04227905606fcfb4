using System.Diagnostics;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Cli.Commands;

/// <summary>
/// What <c>pnc up</c> shows a newcomer before serving: the development PKI, a contract certificate issued for a fresh
/// EMAID, its chain checked signature by signature up to the MO root, then revoked and listed in a new CRL.
/// </summary>
internal static class DemoScenario
{
    public static async Task RunAsync(PncEnvironment env, TextWriter o, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        void Step(string who, string what) => o.WriteLine($"[{sw.Elapsed.TotalMilliseconds,8:0.0} ms] {who,-12} {what}");

        var created = await DevelopmentHierarchy.CreateAsync(env.Ca.Hierarchy, env.Ca.CaStore, "iso2", "file", KeyAlgorithm.EcP256, Program.Actor, ct);
        Step("hub", created.Count > 0 ? $"created the development PKI: {string.Join(", ", created)}" : "development PKI already present (V2G, CPO, CPS, MO, OEM roots and sub-CAs)");

        using var carKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var emaid = Emaid.Create("DE", "8AA", "C" + RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture));
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid.Normalized}, O=Demo eMSP, C=DE, DC=MO", carKey, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = await env.Ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = csr, Actor = Program.Actor }, ct);
        Step("eMSP -> hub", $"contract certificate for EMAID {emaid.ToDisplayString()}: serial {issued.Record.Serial}, {issued.Certificate.GetEncoded().Length} bytes");

        // Check the chain link by link: each signature under its issuer's key, each validity window, CN = EMAID.
        var chain = new[] { issued.Certificate }.Concat(issued.IssuerChain).ToList();
        for (var i = 0; i < chain.Count; i++)
        {
            var issuer = chain[Math.Min(i + 1, chain.Count - 1)];
            chain[i].Verify(issuer.GetPublicKey());
            chain[i].CheckValidity();
        }
        var lint = CertificateLinter.Lint(issued.Certificate.TbsCertificate, env.Ca.Profiles.Get("iso2/contract"));
        if (lint.Count > 0) throw new InvalidOperationException("The demo certificate fails its profile: " + string.Join(" ", lint));
        Step("verifier", $"chain of {chain.Count} verified up to '{chain[^1].SubjectDN.GetValueList(X509Name.CN)[0]}', profile iso2/contract conforms");

        var outcome = await env.Ca.Revoker.RevokeAsync("iso2-mo-subca2", issued.Record.Serial, RevocationReason.CessationOfOperation, Program.Actor, ct);
        var crl = await env.Ca.Crls.GenerateAsync("iso2-mo-subca2", Program.Actor, ct);
        var listed = Pki.Revocation.CrlIssuer.Parse(crl.Der).GetRevokedCertificate(issued.Certificate.SerialNumber) != null;
        Step("eMSP -> hub", $"contract terminated: certificate revoked at {outcome.RevokedAt:HH:mm:ss} (cessationOfOperation); CRL #{crl.Number} lists it: {listed}");
        var audit = await Pki.Audit.AuditChain.VerifyAsync(env.Ca.Audit.ReadAllAsync(ct), ct);
        Step("hub", $"audit log: {audit.Detail}");
    }
}
