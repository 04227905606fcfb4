using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Server.Participants;

public enum ParticipantError { Invalid, AlreadyExists, UnknownParticipant, UnknownCredential }

public sealed class ParticipantException(ParticipantError error, string message) : Exception(message)
{
    public ParticipantError Error { get; } = error;
}

/// <summary>
/// The hub operator's registry of participants and their credentials: registers participants with the identities they
/// own, issues their mutual-TLS client certificates from the service's participant CA (outside the V2G PKI), registers
/// foreign client certificates by fingerprint, creates OAuth2 clients, and revokes any of these.
/// </summary>
public sealed class ParticipantDirectory(IParticipantStore store, ICertificateAuthorityStore cas, HierarchyBuilder hierarchy, CertificateIssuer issuer,
    CertificateRevoker revoker, TimeProvider clock)
{
    /// <summary>Over the CA's parts, for the CLI's bootstrap that runs before the host (which resolves them itself).</summary>
    public static ParticipantDirectory Over(IParticipantStore store, CertificateAuthorityServices ca, TimeProvider clock) =>
        new(store, ca.CaStore, ca.Hierarchy, ca.Issuer, ca.Revoker, clock);

    /// <summary>The CA that signs participant client certificates and the service's own TLS certificate.</summary>
    public const string ParticipantCaId = "service-participants";
    public const string ParticipantCaProfile = "service/participant-root";
    public const string ClientProfile = "service/participant-client";
    public const string TlsServerProfile = "service/tls-server";

    public IParticipantStore Store => store;

    /// <summary>Creates the participant CA when it does not exist yet (idempotent).</summary>
    public async Task<CaRecord> EnsureParticipantCaAsync(string keyScheme, string actor, CancellationToken ct = default)
    {
        if (await cas.GetAsync(ParticipantCaId, ct) is { } existing) return existing;
        try
        {
            await hierarchy.CreateRootAsync(ParticipantCaId, ParticipantCaProfile, "CN=PlugAndCharge Participant CA, O=PlugAndCharge",
                KeyLocation.NewKeyUri(keyScheme, $"{ParticipantCaId}-{Guid.NewGuid():N}"), KeyAlgorithm.EcP256, actor, ct);
        }
        catch (PkiException e) when (e.Error == PkiError.AlreadyExists)
        {
            // Another instance created it at the same time.
        }
        return await cas.GetAsync(ParticipantCaId, ct) ?? throw new InvalidOperationException("participant CA missing after creation");
    }

    public async Task<Participant> RegisterAsync(string id, string name, ParticipantRole role, IEnumerable<string> identities, string? organization, string actor, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ParticipantException(ParticipantError.Invalid, "A participant id is 1-64 letters, digits, '-', '_' or '.'.");
        var ids = identities.Select(ParticipantIdentities.Normalize).Distinct().ToList();
        foreach (var i in ids)
            if (ParticipantIdentities.Problem(role, i) is { } problem) throw new ParticipantException(ParticipantError.Invalid, problem + ".");
        if (role != ParticipantRole.Admin && ids.Count == 0)
            throw new ParticipantException(ParticipantError.Invalid, $"A participant with role {role} must own at least one identity.");
        var participant = new Participant { Id = id, Name = string.IsNullOrWhiteSpace(name) ? id : name, Role = role, Identities = ids, Organization = organization, CreatedAt = clock.GetUtcNow() };
        if (!await store.CreateAsync(participant, actor, ct))
            throw new ParticipantException(ParticipantError.AlreadyExists, $"Participant '{id}' exists, or one of its identities ({string.Join(", ", ids)}) belongs to another participant.");
        return participant;
    }

    public async Task<Participant> GetAsync(string id, CancellationToken ct = default) =>
        await store.GetAsync(id, ct) ?? throw new ParticipantException(ParticipantError.UnknownParticipant, $"No participant '{id}'.");

    /// <summary>Issues a client certificate for the participant from a PKCS#10 CSR; the CN becomes the participant id.</summary>
    public async Task<IssuedCertificate> IssueClientCertificateAsync(string participantId, byte[] csrDer, string actor, CancellationToken ct = default)
    {
        var participant = await GetAsync(participantId, ct);
        var issued = await issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = ClientProfile, IssuerId = ParticipantCaId, Csr = csrDer, Actor = actor,
            Subject = new X509Name($"CN={participant.Id}, O={Escape(participant.Organization ?? participant.Name)}"),
        }, ct);
        await store.AddCredentialAsync(new ParticipantCredential
        {
            ParticipantId = participant.Id, Kind = CredentialKind.ClientCertificate, Key = Fingerprint(issued.Certificate.GetEncoded()),
            IssuerId = ParticipantCaId, Serial = issued.Record.Serial, NotAfter = issued.Record.NotAfter,
        }, actor, ct);
        return issued;
    }

    /// <summary>Registers a client certificate the participant obtained elsewhere, by its SHA-256 fingerprint.</summary>
    public async Task<ParticipantCredential> RegisterCertificateAsync(string participantId, X509Certificate certificate, string actor, CancellationToken ct = default)
    {
        await GetAsync(participantId, ct);
        var credential = new ParticipantCredential
        {
            ParticipantId = participantId, Kind = CredentialKind.ClientCertificate, Key = Fingerprint(certificate.GetEncoded()),
            NotAfter = new DateTimeOffset(certificate.NotAfter, TimeSpan.Zero),
        };
        if (!await store.AddCredentialAsync(credential, actor, ct))
            throw new ParticipantException(ParticipantError.AlreadyExists, "This certificate is already registered.");
        return credential;
    }

    /// <summary>Creates an OAuth2 client; the secret is returned once and stored only hashed.</summary>
    public async Task<(string ClientId, string ClientSecret)> CreateOAuthClientAsync(string participantId, string actor, CancellationToken ct = default)
    {
        await GetAsync(participantId, ct);
        var clientId = participantId + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = ClientSecrets.NewSecret();
        await store.AddCredentialAsync(new ParticipantCredential
        {
            ParticipantId = participantId, Kind = CredentialKind.OAuthClient, Key = clientId, SecretHash = ClientSecrets.Hash(secret),
        }, actor, ct);
        return (clientId, secret);
    }

    /// <summary>Revokes a credential; a client certificate of ours is also revoked in the CA, so CRL and OCSP say so.</summary>
    public async Task RevokeCredentialAsync(CredentialKind kind, string key, string actor, CancellationToken ct = default)
    {
        var found = await store.FindCredentialAsync(kind, key, ct) ?? throw new ParticipantException(ParticipantError.UnknownCredential, "No such credential.");
        await store.RevokeCredentialAsync(kind, key, actor, ct);
        if (found.Credential is { IssuerId: { } issuer, Serial: { } serial })
            await revoker.RevokeAsync(issuer, serial, RevocationReason.CessationOfOperation, actor, ct);
    }

    /// <summary>Issues the service's HTTPS certificate under the participant CA, with a fresh key that never leaves the process.</summary>
    public async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> IssueTlsServerCertificateAsync(IReadOnlyList<string> dnsNames, string actor, CancellationToken ct = default)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var sans = dnsNames.Select(n => System.Net.IPAddress.TryParse(n, out _) ? new GeneralName(GeneralName.IPAddress, n) : new GeneralName(GeneralName.DnsName, n)).ToList();
        var issued = await issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = TlsServerProfile, IssuerId = ParticipantCaId, Actor = actor,
            PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = new X509Name($"CN={dnsNames[0]}, O=PlugAndCharge"), SubjectAltNames = sans,
        }, ct);
        using var publicOnly = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(issued.Certificate.GetEncoded());
        using var withKey = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(publicOnly, key);
        // Kestrel needs a key it can use for the handshake; a PKCS#12 round trip gives an exportable ephemeral key on Linux.
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(withKey.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
    }

    public static string Fingerprint(byte[] der) => Convert.ToHexStringLower(SHA256.HashData(der));

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace(",", "\\,").Replace("=", "\\=").Replace("+", "\\+");
}
