namespace PlugAndCharge.Core.Participants;

/// <summary>How a participant proves who it is: a client certificate (by SHA-256 fingerprint) or an OAuth2 client.</summary>
public enum CredentialKind { ClientCertificate, OAuthClient }

/// <summary>
/// One credential of a participant. Certificates are matched by the SHA-256 of their DER; OAuth clients by client id,
/// with only a salted hash of the secret kept (<see cref="SecretHash"/>).
/// </summary>
public sealed record ParticipantCredential
{
    public required string ParticipantId { get; init; }
    public required CredentialKind Kind { get; init; }
    /// <summary>Lower-case hex SHA-256 of the certificate DER, or the OAuth client id.</summary>
    public required string Key { get; init; }
    /// <summary>For certificates issued by our participant CA: issuer CA id and serial, to check revocation in our records.</summary>
    public string? IssuerId { get; init; }
    public string? Serial { get; init; }
    public string? SecretHash { get; init; }
    public DateTimeOffset? NotAfter { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>The participant registry. Each write is audited in the same transaction as the change.</summary>
public interface IParticipantStore
{
    /// <summary>Adds a participant; false when the id is taken.</summary>
    Task<bool> CreateAsync(Participant participant, string actor, CancellationToken ct = default);
    Task<Participant?> GetAsync(string id, CancellationToken ct = default);
    Task<IReadOnlyList<Participant>> ListAsync(CancellationToken ct = default);
    Task<bool> UpdateAsync(Participant participant, string actor, CancellationToken ct = default);
    /// <summary>Adds a credential; false when a credential with the same kind and key already exists.</summary>
    Task<bool> AddCredentialAsync(ParticipantCredential credential, string actor, CancellationToken ct = default);
    Task<(Participant Participant, ParticipantCredential Credential)?> FindCredentialAsync(CredentialKind kind, string key, CancellationToken ct = default);
    Task<IReadOnlyList<ParticipantCredential>> ListCredentialsAsync(string participantId, CancellationToken ct = default);
    Task<bool> RevokeCredentialAsync(CredentialKind kind, string key, string actor, CancellationToken ct = default);
}
