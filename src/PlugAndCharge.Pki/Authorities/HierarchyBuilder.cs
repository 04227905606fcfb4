using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Authorities;

public sealed record CreatedCa(CaRecord Record, X509Certificate Certificate);

/// <summary>Creates roots, sub-CAs (with a new key or from a CSR, the offline-root ceremony) and delegated OCSP signers.</summary>
public sealed class HierarchyBuilder(
    ICertificateAuthorityStore store,
    CertificateAuthorityDirectory authorities,
    CertificateIssuer issuer,
    KeyProviderRegistry keys,
    ProfileCatalog profiles,
    PkiOptions options,
    TimeProvider clock)
{
    /// <summary>A self-signed root with a newly generated key at <paramref name="keyUri"/>.</summary>
    public async Task<CreatedCa> CreateRootAsync(string caId, string profileId, string subject, string keyUri, KeyAlgorithm algorithm, string actor, CancellationToken ct = default)
    {
        var profile = profiles.Get(profileId);
        if (profile.Kind != ProfileKind.Root) throw new PkiException(PkiError.IssuerNotAllowed, $"{profileId} is not a root profile.");
        await EnsureNewAsync(caId, ct);
        var key = await keys.GenerateAsync(KeyUri.Parse(keyUri), algorithm, ct);
        var name = DistinguishedNames.Parse(subject);
        var now = clock.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var tbs = TbsCertificateBuilder.Build(new TbsCertificateBuilder.Input(profile, SerialNumbers.NewRandom(), name, algorithm, null, null, name,
            key.PublicKey, now - options.Backdate, now + TimeSpan.FromDays(profile.MaxValidityDays) - options.Backdate), options);
        var findings = CertificateLinter.Lint(tbs, profile, name);
        if (findings.Count > 0) throw new PkiException(PkiError.LintFailed, $"The root fails {profile.Id}: {string.Join(" ", findings)}");
        var cert = await CertificateSigner.SignAsync(tbs, key, key.PublicKey, profile.MaxDerBytes, ct);
        var der = cert.GetEncoded();
        var record = new CaRecord { Id = caId, ProfileId = profile.Id, ParentId = null, KeyUri = keyUri, CertificateDer = der, CreatedAt = clock.GetUtcNow() };
        await store.CreateAsync(record, CertificateRecordOf(caId, profile.Id, cert), new AuditEvent(actor, "ca.create-root", caId, Details(profile.Id, cert, keyUri)), ct);
        return new CreatedCa(record, cert);
    }

    /// <summary>
    /// A sub-CA signed by <paramref name="parentId"/>. With <paramref name="csr"/> the key already exists elsewhere
    /// (an HSM, another site): the parent signs the CSR and <paramref name="keyUri"/> records where that key lives.
    /// Without it, a new key is generated at <paramref name="keyUri"/>.
    /// </summary>
    public async Task<CreatedCa> CreateSubCaAsync(string caId, string profileId, string parentId, string? subject, string keyUri, KeyAlgorithm algorithm, byte[]? csr, string actor, CancellationToken ct = default)
    {
        var profile = profiles.Get(profileId);
        if (profile.Kind != ProfileKind.SubCa) throw new PkiException(PkiError.IssuerNotAllowed, $"{profileId} is not a sub-CA profile.");
        await EnsureNewAsync(caId, ct);
        SubjectPublicKeyInfo? publicKey = null;
        if (csr == null) publicKey = (await keys.GenerateAsync(KeyUri.Parse(keyUri), algorithm, ct)).PublicKey;
        var issued = await issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = profileId, IssuerId = parentId, Csr = csr, PublicKey = publicKey,
            Subject = subject != null ? DistinguishedNames.Parse(subject) : null, Actor = actor,
        }, ct);
        var record = new CaRecord { Id = caId, ProfileId = profile.Id, ParentId = parentId, KeyUri = keyUri, CertificateDer = issued.Certificate.GetEncoded(), CreatedAt = clock.GetUtcNow() };
        await store.CreateAsync(record, null, new AuditEvent(actor, "ca.create-subca", caId, Details(profile.Id, issued.Certificate, keyUri, parentId)), ct);
        return new CreatedCa(record, issued.Certificate);
    }

    /// <summary>Issues the delegated OCSP responder certificate of a CA (EKU OCSPSigning + ocsp-nocheck, RFC 6960 §4.2.2.2).</summary>
    public async Task<IssuedCertificate> CreateOcspSignerAsync(string caId, string keyUri, string actor, CancellationToken ct = default)
    {
        var ca = await authorities.GetAsync(caId, ct);
        var profileId = ca.Profile.Id[..ca.Profile.Id.IndexOf('/')] + "/ocsp-signer";
        var key = await keys.GenerateAsync(KeyUri.Parse(keyUri), ca.Key.Algorithm, ct);
        var subject = DistinguishedNames.Parse($"CN={caId} OCSP Responder,O=PlugAndCharge");
        var issued = await issuer.IssueAsync(new IssuanceRequest { ProfileId = profileId, IssuerId = caId, PublicKey = key.PublicKey, Subject = subject, Actor = actor }, ct);
        await store.SetOcspSignerAsync(caId, issued.Record.Serial, keyUri, new AuditEvent(actor, "ca.set-ocsp-signer", caId, new Dictionary<string, string> { ["serial"] = issued.Record.Serial, ["keyUri"] = keyUri }), ct);
        authorities.Invalidate(caId);
        return issued;
    }

    private async Task EnsureNewAsync(string caId, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(caId) || caId.Length > 64 || !caId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new PkiException(PkiError.Malformed, $"CA id '{caId}' must be 1-64 letters, digits, '-', '_' or '.'.");
        if (await store.GetAsync(caId, ct) != null) throw new PkiException(PkiError.AlreadyExists, $"CA '{caId}' already exists.");
    }

    private static CertificateRecord CertificateRecordOf(string issuerId, string profileId, X509Certificate cert)
    {
        var der = cert.GetEncoded();
        return new CertificateRecord
        {
            IssuerId = issuerId, Serial = SerialNumbers.ToHex(cert.SerialNumber), ProfileId = profileId, Subject = cert.SubjectDN.ToString(),
            NotBefore = new DateTimeOffset(cert.NotBefore, TimeSpan.Zero), NotAfter = new DateTimeOffset(cert.NotAfter, TimeSpan.Zero),
            Der = der, Sha256 = SHA256.HashData(der), Status = CertificateStatus.Valid,
        };
    }

    private static Dictionary<string, string> Details(string profileId, X509Certificate cert, string keyUri, string? parent = null)
    {
        var d = new Dictionary<string, string>
        {
            ["profile"] = profileId, ["subject"] = cert.SubjectDN.ToString(), ["serial"] = SerialNumbers.ToHex(cert.SerialNumber),
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(cert.GetEncoded())), ["keyUri"] = keyUri,
        };
        if (parent != null) d["parent"] = parent;
        return d;
    }
}
