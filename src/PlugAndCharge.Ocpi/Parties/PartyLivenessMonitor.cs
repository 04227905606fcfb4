using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// The still-alive check: every interval, each registered party's versions endpoint is read with its token B; a party
/// that answers is CONNECTED, one that does not is OFFLINE. Status changes are stored and published as hubclientinfo.
/// </summary>
public sealed class PartyLivenessMonitor(PartyDirectory parties, PartyClients clients, ClientInfoPublisher clientInfo, OcpiHubOptions options,
    TimeProvider clock, ILogger<PartyLivenessMonitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.LivenessInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(options.LivenessInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await CheckAllAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning(e, "Still-alive check failed"); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping (also when it failed to start): not a failure of the service.
        }
    }

    public async Task CheckAllAsync(CancellationToken ct)
    {
        var checks = (await parties.AllAsync(ct))
            .Where(p => p.IsRegistered && p.VersionsUrl != null && p.Status is PartyStatus.Connected or PartyStatus.Offline)
            .Select(p => CheckAsync(p, ct));
        await Task.WhenAll(checks);
    }

    private async Task CheckAsync(PartyRecord party, CancellationToken ct)
    {
        var response = await clients.For(party).SendAsync(HttpMethod.Get, party.VersionsUrl!, party.OutgoingToken!, Guid.NewGuid().ToString(), default,
            ReadOnlyMemory<byte>.Empty, clients.TimeoutFor(party), ct);
        var status = response.IsSuccess ? PartyStatus.Connected : PartyStatus.Offline;
        if (status == party.Status) return;
        log.LogInformation("Party {Party} is now {Status}", party.Id, status);
        PartyRecord updated;
        try
        {
            // Only the status this check read may change: a suspension or revocation meanwhile is never undone by it.
            updated = await parties.UpdateAsync(party.Id, p => p.Status == party.Status && p.IncomingTokenHash == party.IncomingTokenHash
                ? p with { Status = status, LastSeenAt = response.IsSuccess ? clock.GetUtcNow() : p.LastSeenAt }
                : throw new OcpiPartyChangedException("changed meanwhile"), ct);
        }
        catch (OcpiPartyChangedException)
        {
            return;
        }
        clientInfo.Publish(updated);
    }
}
