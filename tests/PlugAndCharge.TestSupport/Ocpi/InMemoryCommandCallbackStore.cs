using PlugAndCharge.Ocpi.Routing;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Callbacks in this process's memory: one instance only (tests, a single-instance hub without PostgreSQL).</summary>
public sealed class InMemoryCommandCallbackStore : ICommandCallbackStore
{
    private const int MaxPending = 100_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (PendingCommand Command, DateTimeOffset ExpiresAt, DateTimeOffset? ClaimedUntil)> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perSender = new(StringComparer.Ordinal);

    public Task<CommandSlot> RegisterAsync(string id, PendingCommand command, int maxPerSender, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_pending.Count >= MaxPending || _perSender.GetValueOrDefault(command.SenderPartyId) >= maxPerSender) RemoveExpired(now);
            if (_perSender.GetValueOrDefault(command.SenderPartyId) >= maxPerSender) return Task.FromResult(new CommandSlot(null, PartyFull: true, HubFull: false));
            if (_pending.Count >= MaxPending) return Task.FromResult(new CommandSlot(null, PartyFull: false, HubFull: true));
            _pending[id] = (command, expiresAt, null);
            _perSender[command.SenderPartyId] = _perSender.GetValueOrDefault(command.SenderPartyId) + 1;
            return Task.FromResult(new CommandSlot(id, false, false));
        }
    }

    public Task<CommandClaim> ClaimAsync(string id, string receiverPartyId, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(id, out var p) || p.ExpiresAt <= now) return Task.FromResult(new CommandClaim(CommandClaimStatus.Unknown, null));
            if (p.Command.ReceiverPartyId != receiverPartyId) return Task.FromResult(new CommandClaim(CommandClaimStatus.NotYours, null));
            if (p.ClaimedUntil > now) return Task.FromResult(new CommandClaim(CommandClaimStatus.InFlight, null));
            _pending[id] = p with { ClaimedUntil = claimUntil };
            return Task.FromResult(new CommandClaim(CommandClaimStatus.Claimed, p.Command));
        }
    }

    public Task CompleteAsync(string id, CancellationToken ct)
    {
        lock (_gate) Remove(id);
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string id, CancellationToken ct)
    {
        lock (_gate)
            if (_pending.TryGetValue(id, out var p)) _pending[id] = p with { ClaimedUntil = null };
        return Task.CompletedTask;
    }

    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(RemoveExpired(now));
    }

    private int RemoveExpired(DateTimeOffset now)
    {
        var expired = _pending.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList();
        foreach (var key in expired) Remove(key);
        return expired.Count;
    }

    private void Remove(string id)
    {
        if (!_pending.Remove(id, out var p)) return;
        var left = _perSender.GetValueOrDefault(p.Command.SenderPartyId) - 1;
        if (left > 0) _perSender[p.Command.SenderPartyId] = left; else _perSender.Remove(p.Command.SenderPartyId);
    }
}
