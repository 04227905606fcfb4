using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Tests.Infrastructure;

/// <summary>A hub with its parties (separate Kestrel apps) and the traffic log every exchange lands in.</summary>
public sealed class HubWorld : IAsyncDisposable
{
    public required HubHost Hub { get; init; }
    public TrafficLog Traffic { get; } = new();
    public Dictionary<FakeParty, string> PartyIds { get; } = [];
    private readonly List<FakeParty> _parties = [];

    public static async Task<HubWorld> StartAsync(Action<OcpiHubOptions>? configure = null, Action<IServiceCollection>? services = null) =>
        new() { Hub = await HubHost.StartAsync(configure, services) };

    /// <summary>Starts a party, has the operator create it (token A), and by default runs the credentials handshake.</summary>
    public async Task<FakeParty> AddPartyAsync(string role, string cc, string pid, OcpiVersion version, string[]? providerPrefixes = null,
        bool register = true, TimeSpan? timeout = null)
    {
        var party = await FakeParty.StartAsync(role, cc, pid, version, Traffic);
        _parties.Add(party);
        var (record, tokenA) = await Hub.Admin.CreateAsync(new PartyAdministration.NewParty(party.Name, [new PartyRole(role, cc, pid)], providerPrefixes, timeout));
        PartyIds[party] = record.Id;
        party.HubToken = tokenA;
        if (register) await party.RegisterAsync(Hub.VersionsUrl, tokenA);
        return party;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _parties) await p.DisposeAsync();
        await Hub.DisposeAsync();
    }
}
