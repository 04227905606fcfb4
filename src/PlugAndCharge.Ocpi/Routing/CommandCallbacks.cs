using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace PlugAndCharge.Ocpi.Routing;

/// <summary>A command the hub forwarded whose asynchronous CommandResult it must relay back to the sender.</summary>
/// <param name="SenderPartyId">The party that sent the command (the eMSP) and owns <paramref name="ResponseUrl"/>.</param>
/// <param name="ReceiverPartyId">The party the command went to (the CPO): the only one that may post its result.</param>
public sealed record PendingCommand(string ResponseUrl, string SenderPartyId, string ReceiverPartyId,
    string? SenderCountryCode, string? SenderPartyCode, string? ReceiverCountryCode, string? ReceiverPartyCode);

/// <summary>
/// The response_url rewrite of commands through the hub (OCPI 2.2.1 §13, "Commands" via a hub): the CPO cannot (and
/// must not) reach the eMSP's own response_url, so the hub hands it a one-time URL of its own and keeps the original
/// here until the result arrives or <see cref="OcpiHubOptions.CommandResultTimeout"/> passes. Held in this instance's
/// memory: behind a load balancer the result must reach the instance that forwarded the command.
/// </summary>
public sealed class CommandCallbacks(OcpiHubOptions options, TimeProvider clock)
{
    private const int MaxPending = 100_000;
    private readonly ConcurrentDictionary<string, (PendingCommand Command, DateTimeOffset ExpiresAt)> _pending = new(StringComparer.Ordinal);

    /// <summary>Registers a command's response_url; returns the id of the hub's callback URL, or null when the hub is full.</summary>
    public string? Register(PendingCommand command)
    {
        var now = clock.GetUtcNow();
        if (_pending.Count >= MaxPending)
        {
            foreach (var (key, p) in _pending) if (p.ExpiresAt <= now) _pending.TryRemove(key, out _);
            if (_pending.Count >= MaxPending) return null;
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _pending[id] = (command, now + options.CommandResultTimeout);
        return id;
    }

    public PendingCommand? Find(string id) =>
        _pending.TryGetValue(id, out var p) && p.ExpiresAt > clock.GetUtcNow() ? p.Command : null;

    /// <summary>The result was delivered: the callback URL stops working.</summary>
    public void Complete(string id) => _pending.TryRemove(id, out _);
}
