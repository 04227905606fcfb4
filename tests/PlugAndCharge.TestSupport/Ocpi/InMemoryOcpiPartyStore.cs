using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Parties in memory, with the same uniqueness rules as the database (tests, development).</summary>
public sealed class InMemoryOcpiPartyStore : IOcpiPartyStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PartyRecord> _parties = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<PartyRecord>>(_parties.Values.OrderBy(p => p.Id, StringComparer.Ordinal).ToList());
    }

    public Task CreateAsync(PartyRecord party, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_parties.ContainsKey(party.Id)) throw new OcpiConflictException($"Party '{party.Id}' already exists.");
            CheckUnique(party);
            _parties[party.Id] = party;
        }
        return Task.CompletedTask;
    }

    public Task UpdateAsync(PartyRecord party, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_parties.TryGetValue(party.Id, out var stored)) throw new KeyNotFoundException($"Party '{party.Id}' does not exist.");
            if (stored.RowVersion != party.RowVersion) throw new OcpiConcurrencyException($"Party '{party.Id}' changed since it was read.");
            CheckUnique(party);
            _parties[party.Id] = party with { RowVersion = party.RowVersion + 1 };
        }
        return Task.CompletedTask;
    }

    private void CheckUnique(PartyRecord party)
    {
        foreach (var other in _parties.Values)
        {
            if (other.Id == party.Id) continue;
            foreach (var r in party.Roles)
                if (other.Roles.Any(o => o.Is(r.Role, r.CountryCode, r.PartyId)))
                    throw new OcpiConflictException($"Role {r.Role} {r.CountryCode}-{r.PartyId} belongs to party '{other.Id}'.");
            foreach (var p in party.ProviderPrefixes)
                if (other.ProviderPrefixes.Contains(p, StringComparer.OrdinalIgnoreCase))
                    throw new OcpiConflictException($"Provider prefix {p} belongs to party '{other.Id}'.");
            if (party.IncomingTokenHash != null && party.IncomingTokenHash == other.IncomingTokenHash)
                throw new OcpiConflictException("Credentials token collision.");
        }
    }
}
