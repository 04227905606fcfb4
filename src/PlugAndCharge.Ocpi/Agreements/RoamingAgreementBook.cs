using System.Collections.Frozen;

namespace PlugAndCharge.Ocpi.Agreements;

/// <summary>
/// The agreements as every enforcement point asks them (<see cref="IRoamingAgreements"/>): an immutable snapshot of the
/// stored agreements indexed by pair, so a decision on the relay's hot path is a dictionary lookup without I/O. The
/// snapshot is reloaded in the background when older than <see cref="OcpiHubOptions.AgreementRefreshInterval"/> (what
/// another instance changed is enforced here within that time plus one reload); a change made on this instance is
/// applied at once. A pair without an agreement gets the hub-wide default (<see cref="DefaultRoamingPolicy"/>).
/// </summary>
public sealed class RoamingAgreementBook(IRoamingAgreementStore store, OcpiHubOptions options, TimeProvider clock) : IRoamingAgreements
{
    private readonly DefaultRoamingPolicy _default = new(options);
    private readonly SemaphoreSlim _loader = new(1, 1);
    private volatile Snapshot? _snapshot;
    private readonly BackgroundReload _reload = new(clock);

    private sealed record Snapshot(FrozenDictionary<(RoamingParty Cpo, RoamingParty Emsp), RoamingAgreement> ByPair, IReadOnlyList<RoamingAgreement> All,
        DateTimeOffset LoadedAt)
    {
        public static Snapshot Of(IEnumerable<RoamingAgreement> agreements, DateTimeOffset loadedAt)
        {
            var all = agreements.OrderBy(a => a.Cpo.ToString(), StringComparer.Ordinal).ThenBy(a => a.Emsp.ToString(), StringComparer.Ordinal).ToList();
            // A pair has at most one agreement that has not ended; ended ones are its history, and the latest of them
            // still refuses the pair (an ended agreement does not fall back to an open default).
            var byPair = all.GroupBy(a => (Key(a.Cpo), Key(a.Emsp)))
                .ToFrozenDictionary(g => g.Key, g => g.OrderBy(a => a.Status == AgreementStatus.Ended).ThenByDescending(a => a.UpdatedAt).First());
            return new Snapshot(byPair, all, loadedAt);
        }
    }

    private static RoamingParty Key(RoamingParty p) => new(p.CountryCode.ToUpperInvariant(), p.PartyId.ToUpperInvariant());

    public async ValueTask<AgreementDecision> DecideAsync(RoamingParty cpo, RoamingParty emsp, AgreementScope scope, CancellationToken ct)
    {
        var snapshot = _snapshot is { } s ? Refreshed(s) : await LoadAsync(ct);
        return snapshot.ByPair.TryGetValue((Key(cpo), Key(emsp)), out var agreement)
            ? agreement.Decide(scope, clock.GetUtcNow())
            : await _default.DecideAsync(cpo, emsp, scope, ct);
    }

    /// <summary>Every agreement, as this instance currently enforces them.</summary>
    public async ValueTask<IReadOnlyList<RoamingAgreement>> AllAsync(CancellationToken ct = default) =>
        (_snapshot is { } s ? Refreshed(s) : await LoadAsync(ct)).All;

    /// <summary>Re-reads the store now (what other instances stored becomes enforced here).</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _loader.WaitAsync(ct);
        try { _snapshot = Snapshot.Of(await store.ListAsync(ct), clock.GetUtcNow()); }
        finally { _loader.Release(); }
    }

    /// <summary>A change this instance stored: enforced here at once, before the next reload.</summary>
    internal async Task ApplyAsync(RoamingAgreement stored, CancellationToken ct)
    {
        await _loader.WaitAsync(ct);
        try
        {
            if (_snapshot is { } s)
                _snapshot = Snapshot.Of(s.All.Where(a => a.Id != stored.Id).Append(stored), s.LoadedAt);
        }
        finally { _loader.Release(); }
    }

    private async ValueTask<Snapshot> LoadAsync(CancellationToken ct)
    {
        await _loader.WaitAsync(ct);
        try { return _snapshot ??= Snapshot.Of(await store.ListAsync(ct), clock.GetUtcNow()); }
        finally { _loader.Release(); }
    }

    private Snapshot Refreshed(Snapshot s)
    {
        if (_reload.TryClaim(options.AgreementRefreshInterval, s.LoadedAt)) _reload.Start(ReloadAsync);
        return s;
    }
}
