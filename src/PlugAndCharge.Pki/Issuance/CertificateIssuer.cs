using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>
/// Issues certificates, top to bottom: validate request -> take a serial -> build to-be-signed -> lint -> sign ->
/// verify -> store + audit. Each step fails with a named <see cref="PkiError"/>; a serial is unique by construction and
/// used once.
/// </summary>
public sealed class CertificateIssuer(
    CertificateAuthorityDirectory authorities,
    ICertificateStore certificates,
    ProfileCatalog profiles,
    PkiOptions options,
    TimeProvider clock)
{
    private readonly SerialAllocator _serials = new(certificates, clock);

    /// <summary>Issues a certificate and stores its record with the audit entry (steps 1-7).</summary>
    public async Task<IssuedCertificate> IssueAsync(IssuanceRequest request, CancellationToken ct = default)
    {
        var pending = await SignAsync(request, ct);
        await certificates.RecordIssuedAsync(pending.Issued.Record, pending.Audit, ct);
        return pending.Issued;
    }

    /// <summary>
    /// Steps 1-6 (everything but storing): for a caller that stores the record in one transaction with its own change (a
    /// contract and its certificate), which saves a commit and never leaves one without the other.
    /// </summary>
    public async Task<PendingIssuance> SignAsync(IssuanceRequest request, CancellationToken ct = default)
    {
        // 1. Validate the request against the profile and the issuer.
        var profile = profiles.Get(request.ProfileId);
        if (profile.Kind == ProfileKind.Root)
            throw new PkiException(PkiError.IssuerNotAllowed, $"{profile.Id} is a root profile: roots are self-signed, create them with the hierarchy commands.");
        var ca = await authorities.GetAsync(request.IssuerId, ct);
        if (ca.Record.Status != CaStatus.Active) throw new PkiException(PkiError.CaNotActive, $"CA '{ca.Id}' is not active.");
        if (!profile.Issuers.Contains(ca.Profile.Id, StringComparer.OrdinalIgnoreCase))
            throw new PkiException(PkiError.IssuerNotAllowed, $"A {ca.Profile.Id} CA may not sign {profile.Id} certificates (allowed issuers: {string.Join(", ", profile.Issuers)}).");
        var (subject, spki) = ResolveSubjectAndKey(request, profile);
        if (request.SubjectAltNames.Count > 0 && !profile.SubjectAltName)
            throw new PkiException(PkiError.SubjectRuleViolated, $"{profile.Id} certificates carry no subjectAltName.");
        var (notBefore, notAfter) = ValidityWindow(profile, request.Validity, ca.Certificate);

        // 2. A serial unique by construction (CSPRNG bits and a never-repeating counter), before anything is signed.
        var subjectText = subject.ToString();
        var serial = await _serials.TakeAsync(ct);
        var serialHex = SerialNumbers.ToHex(serial);

        X509Certificate certificate;
        try
        {
            // 3-6. Build, lint, sign, verify.
            var tbs = TbsCertificateBuilder.Build(new TbsCertificateBuilder.Input(
                profile, serial, ca.Subject, ca.Key.Algorithm, ca.KeyIdentifier, ca.Id, subject, spki, notBefore, notAfter, request.SubjectAltNames), options);
            var findings = CertificateLinter.Lint(tbs, profile, ca.Subject, ca.KeyIdentifier, ca.Certificate.NotAfter);
            if (findings.Count > 0) throw new PkiException(PkiError.LintFailed, $"The {profile.Id} certificate fails its profile: {string.Join(" ", findings)}");
            certificate = await CertificateSigner.SignAsync(tbs, ca.Key, ca.Certificate.SubjectPublicKeyInfo, profile.MaxDerBytes, ct);
        }
        catch (PkiException e)
        {
            await certificates.RecordFailedAsync(ca.Id, serialHex, new AuditEvent(request.Actor, "certificate.issue-failed", $"{ca.Id}/{serialHex}",
                new Dictionary<string, string> { ["profile"] = profile.Id, ["error"] = e.Error.ToString(), ["reason"] = e.Message }), ct);
            throw;
        }

        // 7. The record and its audit entry, stored by the caller.
        var der = certificate.GetEncoded();
        var record = new CertificateRecord
        {
            IssuerId = ca.Id, Serial = serialHex, ProfileId = profile.Id, Subject = subjectText,
            NotBefore = new DateTimeOffset(certificate.NotBefore, TimeSpan.Zero), NotAfter = new DateTimeOffset(certificate.NotAfter, TimeSpan.Zero),
            Der = der, Sha256 = SHA256.HashData(der), Status = CertificateStatus.Valid,
        };
        var audit = new AuditEvent(request.Actor, "certificate.issue", $"{ca.Id}/{serialHex}",
            new Dictionary<string, string> { ["profile"] = profile.Id, ["subject"] = subjectText, ["sha256"] = Convert.ToHexStringLower(record.Sha256), ["notAfter"] = record.NotAfter.ToString("O") });
        return new PendingIssuance(new IssuedCertificate(record, certificate, ca.ChainIncludingSelf), audit);
    }

    /// <summary>Records a signed certificate that was never stored as Failed (audited): its serial stays used.</summary>
    public Task AbandonAsync(PendingIssuance pending, string actor, string reason, CancellationToken ct = default)
    {
        var r = pending.Issued.Record;
        return certificates.RecordFailedAsync(r.IssuerId, r.Serial, new AuditEvent(actor, "certificate.issue-failed", $"{r.IssuerId}/{r.Serial}",
            new Dictionary<string, string> { ["profile"] = r.ProfileId, ["error"] = "NotStored", ["reason"] = reason }), ct);
    }

    private static (X509Name Subject, SubjectPublicKeyInfo Key) ResolveSubjectAndKey(IssuanceRequest request, CertificateProfile profile)
    {
        if ((request.Csr == null) == (request.PublicKey == null))
            throw new PkiException(PkiError.BadCsr, "Give either a CSR or a public key.");
        X509Name? subject = request.Subject;
        SubjectPublicKeyInfo spki;
        KeyAlgorithm alg;
        if (request.Csr != null)
        {
            var csr = CsrReader.ReadAndVerify(request.Csr);
            subject ??= csr.Subject;
            spki = csr.PublicKey;
            alg = csr.KeyAlgorithm;
        }
        else
        {
            spki = request.PublicKey!;
            alg = PublicKeys.Identify(spki);
        }
        if (!profile.Keys.Contains(alg.ProfileName(), StringComparer.OrdinalIgnoreCase))
            throw new PkiException(PkiError.KeyNotAllowed, $"{profile.Id} allows {string.Join(", ", profile.Keys)} keys, not {alg.ProfileName()}.");
        if (subject == null || DistinguishedNames.Attributes(subject).Count == 0)
            throw new PkiException(PkiError.SubjectRuleViolated, "The subject is empty.");
        return (DistinguishedNames.Canonicalize(subject), spki);
    }

    private (DateTime NotBefore, DateTime NotAfter) ValidityWindow(CertificateProfile profile, TimeSpan? requested, X509Certificate issuer)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Whole seconds: X.509 times carry no fractions.
        now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var max = TimeSpan.FromDays(profile.MaxValidityDays);
        var validity = requested ?? max;
        if (validity <= TimeSpan.Zero || validity > max)
            throw new PkiException(PkiError.ValidityNotAllowed, $"{profile.Id} allows at most {profile.MaxValidityDays} days.");
        var notBefore = now - options.Backdate;
        if (notBefore < issuer.NotBefore) notBefore = issuer.NotBefore;
        var notAfter = now + validity;
        // Never outlive the issuer: the certificate would be unverifiable after the issuer expires.
        if (notAfter > issuer.NotAfter) notAfter = issuer.NotAfter;
        if (notAfter <= now) throw new PkiException(PkiError.CaNotActive, "The issuing CA has expired.");
        return (notBefore, notAfter);
    }
}

/// <summary>Signs a to-be-signed certificate through a key provider, then verifies the result and checks its size.</summary>
public static class CertificateSigner
{
    public static async Task<X509Certificate> SignAsync(TbsCertificateStructure tbs, ISigningKey key, SubjectPublicKeyInfo verifyWith, int maxDerBytes, CancellationToken ct)
    {
        var tbsDer = tbs.GetEncoded(Asn1Encodable.Der);
        var signature = await key.SignAsync(tbsDer, SignatureFormat.Der, ct);
        // Verify every signature after signing: a faulty signer (HSM, memory error) must not publish a broken certificate.
        if (!SignatureAlgorithms.Verify(verifyWith, tbs.Signature, tbsDer, signature))
            throw new PkiException(PkiError.SignatureCheckFailed, $"The signature by '{key.Uri}' does not verify with the issuer's public key.");
        var structure = new X509CertificateStructure(tbs, tbs.Signature, new DerBitString(signature));
        var der = structure.GetEncoded(Asn1Encodable.Der);
        if (der.Length > maxDerBytes)
            throw new PkiException(PkiError.TooLarge, $"The certificate is {der.Length} bytes; the profile allows {maxDerBytes} (ISO 15118-2 [V2G2-010]: 800; ISO 15118-20 certificateType: 1600).");
        return new X509Certificate(structure);
    }
}
