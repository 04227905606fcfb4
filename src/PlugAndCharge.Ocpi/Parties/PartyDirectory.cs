using System.Collections.Frozen;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// The hub's view of its parties, indexed for the hot path (token -> party, country+party -> party, provider prefix ->
/// party). Reads take an immutable snapshot without a lock; writes re-read the store, apply the change, store it and
/// swap the snapshot, one writer at a time. Several hub instances share the store: each reloads its snapshot when it is
/// older than <see cref="OcpiHubOptions.PartyRefreshInterval"/> (in the background, readers keep the old one), and at
/// once when a token is unknown (at most once a second), so a party that registered on another instance is recognized
/// on its first call here.
/// </summary>
public sealed class PartyDirectory(IOcpiPartyStore store, TimeProvider clock, OcpiHubOptions options)
{
    private static readonly TimeSpan MissReloadSpacing = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile Snapshot? _snapshot;
    private readonly BackgroundReload _reload = new(clock);
    private long _lastMissReloadTicks;

    public TimeProvider Clock => clock;

    private sealed class Snapshot
    {
        public required FrozenDictionary<string, PartyRecord> ById { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByTokenHash { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByCountryParty { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByProviderPrefix { get; init; }
        public required IReadOnlyList<PartyRecord> All { get; init; }
        public required DateTimeOffset LoadedAt { get; init; }

        public static Snapshot Of(IEnumerable<PartyRecord> parties, DateTimeOffset loadedAt)
        {
            var all = parties.OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
            var byCp = new Dictionary<string, PartyRecord>(StringComparer.OrdinalIgnoreCase);
            var byPrefix = new Dictionary<string, PartyRecord>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in all)
            {
                foreach (var r in p.Roles) byCp.TryAdd(Key(r.CountryCode, r.PartyId), p);
                foreach (var x in p.ProviderPrefixes) byPrefix.TryAdd(x, p);
            }
            return new Snapshot
            {
                All = all, LoadedAt = loadedAt,
                ById = all.ToFrozenDictionary(p => p.Id, StringComparer.Ordinal),
                ByTokenHash = all.Where(p => p.IncomingTokenHash != null).ToFrozenDictionary(p => p.IncomingTokenHash!, StringComparer.Ordinal),
                ByCountryParty = byCp.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
                ByProviderPrefix = byPrefix.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            };
        }
    }

    private static string Key(string cc, string pid) => string.Concat(cc, "*", pid);

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken ct)
    {
        if (_snapshot is { } s)
        {
            if (_reload.TryClaim(options.PartyRefreshInterval, s.LoadedAt)) _reload.Start(ReloadAsync);
            return s;
        }
        await _writer.WaitAsync(ct);
        try { return _snapshot ??= Snapshot.Of(await store.ListAsync(ct), clock.GetUtcNow()); }
        finally { _writer.Release(); }
    }

    /// <summary>Reads every party from the store into a new snapshot (what other instances wrote becomes visible).</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _writer.WaitAsync(ct);
        try { _snapshot = Snapshot.Of(await store.ListAsync(ct), clock.GetUtcNow()); }
        finally { _writer.Release(); }
    }

    public async ValueTask<IReadOnlyList<PartyRecord>> AllAsync(CancellationToken ct = default) => (await CurrentAsync(ct)).All;

    public async ValueTask<PartyRecord?> GetAsync(string id, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ById.GetValueOrDefault(id);

    public async ValueTask<PartyRecord?> FindByTokenHashAsync(string hash, CancellationToken ct = default)
    {
        var snapshot = await CurrentAsync(ct);
        if (snapshot.ByTokenHash.TryGetValue(hash, out var party)) return party;
        // Unknown here, perhaps just issued by another instance: reload once, spaced so unknown tokens cannot hammer the store.
        var now = clock.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastMissReloadTicks);
        if (now - last < MissReloadSpacing.Ticks || Interlocked.CompareExchange(ref _lastMissReloadTicks, now, last) != last) return null;
        await ReloadAsync(ct);
        return _snapshot!.ByTokenHash.GetValueOrDefault(hash);
    }

    public async ValueTask<PartyRecord?> FindByCountryPartyAsync(string countryCode, string partyId, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ByCountryParty.GetValueOrDefault(Key(countryCode, partyId));

    public async ValueTask<PartyRecord?> FindByProviderPrefixAsync(string prefix, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ByProviderPrefix.GetValueOrDefault(prefix);

    public Task<PartyRecord> CreateAsync(PartyRecord party, CancellationToken ct = default) =>
        WriteAsync(party.Id, _ => party with { UpdatedAt = clock.GetUtcNow() }, create: true, ct);

    /// <summary>
    /// Applies <paramref name="change"/> to the current record and stores it; returns the stored record. The change
    /// sees what the store holds now and may refuse by throwing (<see cref="OcpiPartyChangedException"/>); when another
    /// instance writes the party between the read and the write, the store refuses by row version and the change is
    /// applied again to the new record, so a write never overwrites one it did not see.
    /// </summary>
    public Task<PartyRecord> UpdateAsync(string id, Func<PartyRecord, PartyRecord> change, CancellationToken ct = default) =>
        WriteAsync(id, p => change(p!) with { UpdatedAt = clock.GetUtcNow() }, create: false, ct);

    private const int WriteAttempts = 5;

    private async Task<PartyRecord> WriteAsync(string id, Func<PartyRecord?, PartyRecord> change, bool create, CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                // The store is the truth (another instance may have changed the party): change what it holds now.
                var snap = Snapshot.Of(await store.ListAsync(ct), clock.GetUtcNow());
                var existing = snap.ById.GetValueOrDefault(id);
                if (!create && existing == null) throw new KeyNotFoundException($"Party '{id}' does not exist.");
                var updated = change(existing) with { RowVersion = existing?.RowVersion ?? 0 };
                try
                {
                    if (create) await store.CreateAsync(updated, ct); else await store.UpdateAsync(updated, ct);
                }
                catch (OcpiConcurrencyException) when (attempt < WriteAttempts)
                {
                    continue;
                }
                if (!create) updated = updated with { RowVersion = updated.RowVersion + 1 };
                _snapshot = Snapshot.Of(snap.All.Where(p => p.Id != id).Append(updated), snap.LoadedAt);
                return updated;
            }
        }
        finally { _writer.Release(); }
    }
}
