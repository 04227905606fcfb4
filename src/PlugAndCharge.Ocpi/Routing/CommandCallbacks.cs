using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;

namespace PlugAndCharge.Ocpi.Routing;

/// <summary>A command the hub forwarded whose asynchronous CommandResult it must relay back to the sender.</summary>
/// <param name="SenderPartyId">The party that sent the command (the eMSP) and owns <paramref name="ResponseUrl"/>.</param>
/// <param name="ReceiverPartyId">The party the command went to (the CPO): the only one that may post its result.</param>
public sealed record PendingCommand(string ResponseUrl, string SenderPartyId, string ReceiverPartyId,
    string? SenderCountryCode, string? SenderPartyCode, string? ReceiverCountryCode, string? ReceiverPartyCode);

/// <summary>Outcome of registering a command's response_url: the callback id, or which limit refused it.</summary>
public readonly record struct CommandSlot(string? Id, bool PartyFull, bool HubFull);

/// <summary>What claiming a callback found: the command (this caller now relays it, alone), or why not.</summary>
public enum CommandClaimStatus { Claimed, Unknown, NotYours, InFlight }

public readonly record struct CommandClaim(CommandClaimStatus Status, PendingCommand? Command);

/// <summary>
/// Where pending command callbacks are kept. Behind a load balancer this must be shared by every instance (PostgreSQL):
/// the CPO's CommandResult may reach any of them, and the per-party budget must count every instance's commands.
/// </summary>
public interface ICommandCallbackStore
{
    /// <summary>Stores the command under <paramref name="id"/> unless its sender already has <paramref name="maxPerSender"/> unexpired ones.</summary>
    Task<CommandSlot> RegisterAsync(string id, PendingCommand command, int maxPerSender, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken ct);

    /// <summary>
    /// Takes the unexpired, unclaimed callback for <paramref name="receiverPartyId"/> until <paramref name="claimUntil"/>:
    /// of concurrent claims (on any instance) exactly one succeeds.
    /// </summary>
    Task<CommandClaim> ClaimAsync(string id, string receiverPartyId, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken ct);

    /// <summary>The result was delivered (or the command was never taken): the callback is gone and the slot free.</summary>
    Task CompleteAsync(string id, CancellationToken ct);

    /// <summary>The relay failed: the claim is given back so the CPO can post the result again before it expires.</summary>
    Task ReleaseAsync(string id, CancellationToken ct);

    /// <summary>Deletes expired callbacks; returns how many.</summary>
    Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken ct);
}

/// <summary>
/// The response_url rewrite of commands through the hub (OCPI 2.2.1 §13, "Commands" via a hub): the CPO cannot (and
/// must not) reach the eMSP's own response_url, so the hub hands it a one-time URL of its own and keeps the original
/// in <see cref="ICommandCallbackStore"/> until the result arrives or <see cref="OcpiHubOptions.CommandResultTimeout"/>
/// passes. Each sending party has at most <see cref="OcpiHubOptions.MaxPendingCommandsPerParty"/> slots (hub-wide
/// with the PostgreSQL store), so one party cannot fill the table and lock the others out.
/// </summary>
public sealed class CommandCallbacks(ICommandCallbackStore store, OcpiHubOptions options, TimeProvider clock)
{
    /// <summary>How long a relay may hold a claimed callback: longer than any party call, short enough to retry after a crash.</summary>
    public static readonly TimeSpan ClaimHold = TimeSpan.FromMinutes(2);

    /// <summary>Registers a command's response_url and returns the id of the hub's callback URL, unless the sender's or the hub's slots are taken.</summary>
    public Task<CommandSlot> RegisterAsync(PendingCommand command, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return store.RegisterAsync(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), command, options.MaxPendingCommandsPerParty,
            now, now + options.CommandResultTimeout, ct);
    }

    public Task<CommandClaim> ClaimAsync(string id, string receiverPartyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return store.ClaimAsync(id, receiverPartyId, now, now + ClaimHold, ct);
    }

    /// <summary>The result was delivered: the callback URL stops working and the sender's slot is free again.</summary>
    public Task CompleteAsync(string id, CancellationToken ct) => store.CompleteAsync(id, ct);

    public Task ReleaseAsync(string id, CancellationToken ct) => store.ReleaseAsync(id, ct);

    public Task<int> SweepExpiredAsync(CancellationToken ct) => store.SweepExpiredAsync(clock.GetUtcNow(), ct);
}

/// <summary>Deletes expired command callbacks once a minute (the budget ignores them already; this keeps the table small).</summary>
public sealed class CommandCallbackSweeper(CommandCallbacks callbacks) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await callbacks.SweepExpiredAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { /* the next tick tries again; the database may be away */ }
        }
    }
}
