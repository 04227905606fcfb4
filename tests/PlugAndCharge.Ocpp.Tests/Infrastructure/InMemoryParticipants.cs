using System.Collections.Concurrent;
using PlugAndCharge.Core.Participants;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>The hub's participant registry as the OCPP service reads it (the CPOs that own stations); credentials are not used here.</summary>
public sealed class InMemoryParticipants : IParticipantStore
{
    private readonly ConcurrentDictionary<string, Participant> _participants = new(StringComparer.Ordinal);

    public Task<bool> CreateAsync(Participant participant, string actor, CancellationToken ct = default) => Task.FromResult(_participants.TryAdd(participant.Id, participant));
    public Task<Participant?> GetAsync(string id, CancellationToken ct = default) => Task.FromResult(_participants.GetValueOrDefault(id));
    public Task<IReadOnlyList<Participant>> ListAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Participant>>(_participants.Values.ToList());
    public Task<bool> UpdateAsync(Participant participant, string actor, CancellationToken ct = default) { _participants[participant.Id] = participant; return Task.FromResult(true); }
    public Task<bool> AddCredentialAsync(ParticipantCredential credential, string actor, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<(Participant Participant, ParticipantCredential Credential)?> FindCredentialAsync(CredentialKind kind, string key, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<IReadOnlyList<ParticipantCredential>> ListCredentialsAsync(string participantId, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<bool> RevokeCredentialAsync(CredentialKind kind, string key, string actor, CancellationToken ct = default) => throw new NotSupportedException();
}
