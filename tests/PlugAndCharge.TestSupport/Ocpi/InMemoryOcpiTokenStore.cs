using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Tokens in memory (tests, development).</summary>
public sealed class InMemoryOcpiTokenStore : IOcpiTokenStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string, string, string, string), StoredToken> _tokens = new();

    private static (string, string, string, string) Key(string cc, string pid, string uid, string type) =>
        (cc.ToUpperInvariant(), pid.ToUpperInvariant(), uid, type.ToUpperInvariant());

    public Task<bool> PutAsync(StoredToken token, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var key = Key(token.CountryCode, token.PartyId, token.Uid, token.Type);
            var isNew = !_tokens.ContainsKey(key);
            _tokens[key] = token;
            return Task.FromResult(isNew);
        }
    }

    public Task<StoredToken?> GetAsync(string countryCode, string partyId, string uid, string type, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_tokens.GetValueOrDefault(Key(countryCode, partyId, uid, type)));
    }

    public Task<StoredToken?> FindAsync(string uid, string type, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult(_tokens.Values.Where(t => t.Uid == uid && string.Equals(t.Type, type, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(t => t.LastUpdated).FirstOrDefault());
    }

    public Task<TokenPage> ListAsync(TokenQuery q, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var matching = _tokens.Values
                .Where(t => q.DateFrom is not { } from || t.LastUpdated >= from)
                .Where(t => q.DateTo is not { } to || t.LastUpdated < to)
                .Where(t => q.OwnerCountryCode is null || string.Equals(t.CountryCode, q.OwnerCountryCode, StringComparison.OrdinalIgnoreCase))
                .Where(t => q.OwnerPartyId is null || string.Equals(t.PartyId, q.OwnerPartyId, StringComparison.OrdinalIgnoreCase))
                .Where(t => q.Owners is null || q.Owners.Any(o => o.Equals(new PlugAndCharge.Ocpi.Agreements.RoamingParty(t.CountryCode.ToUpperInvariant(), t.PartyId.ToUpperInvariant()))))
                .OrderBy(t => t.LastUpdated).ThenBy(t => t.CountryCode, StringComparer.Ordinal).ThenBy(t => t.PartyId, StringComparer.Ordinal)
                .ThenBy(t => t.Uid, StringComparer.Ordinal).ThenBy(t => t.Type, StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(new TokenPage(matching.Skip(q.Offset).Take(q.Limit).ToList(), matching.Count));
        }
    }
}
