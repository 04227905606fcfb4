using System.Collections.Frozen;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// The hub's view of its parties, indexed for the hot path (token -> party, country+party -> party, provider prefix ->
/// party). Reads take an immutable snapshot without a lock; writes go to the store first, then swap the snapshot, one
/// writer at a time. One hub instance owns its parties; a second instance would need a reload on change.
/// </summary>
public sealed class PartyDirectory(IOcpiPartyStore store, TimeProvider clock)
{
    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile Snapshot? _snapshot;

    public TimeProvider Clock => clock;

    private sealed class Snapshot
    {
        public required FrozenDictionary<string, PartyRecord> ById { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByTokenHash { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByCountryParty { get; init; }
        public required FrozenDictionary<string, PartyRecord> ByProviderPrefix { get; init; }
        public required IReadOnlyList<PartyRecord> All { get; init; }

        public static Snapshot Of(IEnumerable<PartyRecord> parties)
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
                All = all,
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
        if (_snapshot is { } s) return s;
        await _writer.WaitAsync(ct);
        try { return _snapshot ??= Snapshot.Of(await store.ListAsync(ct)); }
        finally { _writer.Release(); }
    }

    public async ValueTask<IReadOnlyList<PartyRecord>> AllAsync(CancellationToken ct = default) => (await CurrentAsync(ct)).All;

    public async ValueTask<PartyRecord?> GetAsync(string id, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ById.GetValueOrDefault(id);

    public async ValueTask<PartyRecord?> FindByTokenHashAsync(string hash, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ByTokenHash.GetValueOrDefault(hash);

    public async ValueTask<PartyRecord?> FindByCountryPartyAsync(string countryCode, string partyId, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ByCountryParty.GetValueOrDefault(Key(countryCode, partyId));

    public async ValueTask<PartyRecord?> FindByProviderPrefixAsync(string prefix, CancellationToken ct = default) =>
        (await CurrentAsync(ct)).ByProviderPrefix.GetValueOrDefault(prefix);

    public Task<PartyRecord> CreateAsync(PartyRecord party, CancellationToken ct = default) =>
        WriteAsync(party.Id, _ => party with { UpdatedAt = clock.GetUtcNow() }, create: true, ct);

    /// <summary>Applies <paramref name="change"/> to the current record and stores it; returns the stored record.</summary>
    public Task<PartyRecord> UpdateAsync(string id, Func<PartyRecord, PartyRecord> change, CancellationToken ct = default) =>
        WriteAsync(id, p => change(p!) with { UpdatedAt = clock.GetUtcNow() }, create: false, ct);

    private async Task<PartyRecord> WriteAsync(string id, Func<PartyRecord?, PartyRecord> change, bool create, CancellationToken ct)
    {
        await CurrentAsync(ct);
        await _writer.WaitAsync(ct);
        try
        {
            var snap = _snapshot!;
            var existing = snap.ById.GetValueOrDefault(id);
            if (!create && existing == null) throw new KeyNotFoundException($"Party '{id}' does not exist.");
            var updated = change(existing);
            if (create) await store.CreateAsync(updated, ct); else await store.UpdateAsync(updated, ct);
            _snapshot = Snapshot.Of(snap.All.Where(p => p.Id != id).Append(updated));
            return updated;
        }
        finally { _writer.Release(); }
    }
}
