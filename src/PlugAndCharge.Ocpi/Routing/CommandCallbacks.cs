using System.Security.Cryptography;

namespace PlugAndCharge.Ocpi.Routing;

/// <summary>A command the hub forwarded whose asynchronous CommandResult it must relay back to the sender.</summary>
/// <param name="SenderPartyId">The party that sent the command (the eMSP) and owns <paramref name="ResponseUrl"/>.</param>
/// <param name="ReceiverPartyId">The party the command went to (the CPO): the only one that may post its result.</param>
public sealed record PendingCommand(string ResponseUrl, string SenderPartyId, string ReceiverPartyId,
    string? SenderCountryCode, string? SenderPartyCode, string? ReceiverCountryCode, string? ReceiverPartyCode);

/// <summary>Outcome of registering a command's response_url: the callback id, or which limit refused it.</summary>
public readonly record struct CommandSlot(string? Id, bool PartyFull, bool HubFull);

/// <summary>
/// The response_url rewrite of commands through the hub (OCPI 2.2.1 §13, "Commands" via a hub): the CPO cannot (and
/// must not) reach the eMSP's own response_url, so the hub hands it a one-time URL of its own and keeps the original
/// here until the result arrives or <see cref="OcpiHubOptions.CommandResultTimeout"/> passes. Each sending party has
/// at most <see cref="OcpiHubOptions.MaxPendingCommandsPerParty"/> slots, so one party cannot fill the hub-wide table
/// and lock the others out. Held in this instance's memory (and so is the budget, per instance): behind a load
/// balancer the result must reach the instance that forwarded the command.
/// </summary>
public sealed class CommandCallbacks(OcpiHubOptions options, TimeProvider clock)
{
    private const int MaxPending = 100_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (PendingCommand Command, DateTimeOffset ExpiresAt)> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perSender = new(StringComparer.Ordinal);

    /// <summary>Registers a command's response_url and returns the id of the hub's callback URL, unless the sender's or the hub's slots are taken.</summary>
    public CommandSlot Register(PendingCommand command)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (_pending.Count >= MaxPending || _perSender.GetValueOrDefault(command.SenderPartyId) >= options.MaxPendingCommandsPerParty)
                RemoveExpired(now);
            if (_perSender.GetValueOrDefault(command.SenderPartyId) >= options.MaxPendingCommandsPerParty) return new CommandSlot(null, PartyFull: true, HubFull: false);
            if (_pending.Count >= MaxPending) return new CommandSlot(null, PartyFull: false, HubFull: true);
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _pending[id] = (command, now + options.CommandResultTimeout);
            _perSender[command.SenderPartyId] = _perSender.GetValueOrDefault(command.SenderPartyId) + 1;
            return new CommandSlot(id, false, false);
        }
    }

    public PendingCommand? Find(string id)
    {
        lock (_gate) return _pending.TryGetValue(id, out var p) && p.ExpiresAt > clock.GetUtcNow() ? p.Command : null;
    }

    /// <summary>The result was delivered: the callback URL stops working and the sender's slot is free again.</summary>
    public void Complete(string id)
    {
        lock (_gate) Remove(id);
    }

    private void RemoveExpired(DateTimeOffset now)
    {
        foreach (var (key, p) in _pending.Where(p => p.Value.ExpiresAt <= now).ToList()) Remove(key);
    }

    private void Remove(string id)
    {
        if (!_pending.Remove(id, out var p)) return;
        var left = _perSender.GetValueOrDefault(p.Command.SenderPartyId) - 1;
        if (left > 0) _perSender[p.Command.SenderPartyId] = left; else _perSender.Remove(p.Command.SenderPartyId);
    }
}
