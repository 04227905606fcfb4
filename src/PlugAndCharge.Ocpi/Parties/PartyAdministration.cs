using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>What the hub operator does out of band: add a party with its roles, hand it token A, map eMI3 provider IDs.</summary>
public sealed class PartyAdministration(PartyDirectory parties, ClientInfoPublisher clientInfo)
{
    public sealed record NewParty(string Name, IReadOnlyList<PartyRole> Roles, IReadOnlyList<string>? ProviderPrefixes = null, TimeSpan? Timeout = null);

    /// <summary>Adds a party in status PLANNED and returns it with its token A (shown once; only its hash is kept).</summary>
    public async Task<(PartyRecord Party, string TokenA)> CreateAsync(NewParty request, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(request.Name)) throw new ArgumentException("A party needs a name.");
        if (request.Roles.Count == 0) throw new ArgumentException("A party needs at least one role.");
        foreach (var r in request.Roles)
            if (!Roles.IsKnown(r.Role.ToUpperInvariant()) || r.Role.Equals(Roles.Hub, StringComparison.OrdinalIgnoreCase) || r.CountryCode.Length != 2 || r.PartyId.Length != 3)
                throw new ArgumentException($"Role '{r.Role} {r.CountryCode}-{r.PartyId}' is not a party role with a 2-letter country code and a 3-character party ID.");
        var prefixes = NormalizePrefixes(request.ProviderPrefixes ?? []);
        var tokenA = CredentialsTokens.New();
        var party = new PartyRecord
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Name = request.Name.Trim(),
            Roles = request.Roles.Select(r => new PartyRole(r.Role.ToUpperInvariant(), r.CountryCode.ToUpperInvariant(), r.PartyId.ToUpperInvariant(), r.BusinessName)).ToList(),
            ProviderPrefixes = prefixes,
            IncomingTokenHash = CredentialsTokens.Hash(tokenA),
            IncomingTokenKind = CredentialsTokenKind.A,
            Timeout = request.Timeout,
            Status = PartyStatus.Planned,
        };
        return (await parties.CreateAsync(party, ct), tokenA);
    }

    /// <summary>A new token A for a party that is not registered (never was, or unregistered); the old token A stops working.</summary>
    public async Task<string> IssueTokenAAsync(string partyId, CancellationToken ct = default)
    {
        var party = await parties.GetAsync(partyId, ct) ?? throw new KeyNotFoundException($"Party '{partyId}' does not exist.");
        if (party.IncomingTokenKind == CredentialsTokenKind.C)
            throw new OcpiConflictException($"Party '{partyId}' is registered; it rotates its credentials with PUT, or unregisters first.");
        var tokenA = CredentialsTokens.New();
        // Decided again on what the store holds at the write: a party that registered meanwhile keeps its token C.
        await parties.UpdateAsync(partyId, p => p.IncomingTokenKind == CredentialsTokenKind.C
            ? throw new OcpiConflictException($"Party '{partyId}' is registered; it rotates its credentials with PUT, or unregisters first.")
            : p with { IncomingTokenHash = CredentialsTokens.Hash(tokenA), IncomingTokenKind = CredentialsTokenKind.A, Status = PartyStatus.Planned }, ct);
        return tokenA;
    }

    /// <summary>
    /// Cuts a party off (its token C and the hub's token B for it stop working, its endpoints are forgotten) and
    /// returns a fresh token A for it to register again: what an operator does when a party lost its credentials or they
    /// leaked (OCPI 2.3.0 §7.2.4 leaves this out-of-band).
    /// </summary>
    public async Task<string> RevokeCredentialsAsync(string partyId, CancellationToken ct = default)
    {
        var tokenA = CredentialsTokens.New();
        var updated = await parties.UpdateAsync(partyId, p => p with
        {
            IncomingTokenHash = CredentialsTokens.Hash(tokenA), IncomingTokenKind = CredentialsTokenKind.A, OutgoingToken = null, Endpoints = [],
            Version = null, Status = PartyStatus.Planned,
        }, ct);
        clientInfo.Publish(updated);
        return tokenA;
    }

    public async Task<PartyRecord> SetProviderPrefixesAsync(string partyId, IReadOnlyList<string> prefixes, CancellationToken ct = default)
    {
        var normalized = NormalizePrefixes(prefixes);
        return await parties.UpdateAsync(partyId, p => p with { ProviderPrefixes = normalized }, ct);
    }

    public async Task<PartyRecord> SuspendAsync(string partyId, CancellationToken ct = default)
    {
        var updated = await parties.UpdateAsync(partyId, p => p with { Status = PartyStatus.Suspended }, ct);
        clientInfo.Publish(updated);
        return updated;
    }

    public ValueTask<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default) => parties.AllAsync(ct);

    public ValueTask<PartyRecord?> GetAsync(string id, CancellationToken ct = default) => parties.GetAsync(id, ct);

    /// <summary>eMI3 provider prefix: 2-letter country + 3 alphanumerics (ISO 15118-1 Annex H), upper-case, separators dropped.</summary>
    private static List<string> NormalizePrefixes(IEnumerable<string> prefixes)
    {
        var list = new List<string>();
        foreach (var raw in prefixes)
        {
            var p = raw.Replace("-", "").Replace("*", "").Trim().ToUpperInvariant();
            if (p.Length != 5 || !char.IsAsciiLetter(p[0]) || !char.IsAsciiLetter(p[1]) || !p.All(char.IsAsciiLetterOrDigit))
                throw new ArgumentException($"'{raw}' is not an eMI3 provider prefix (country code + 3-character provider ID, e.g. DE8AC).");
            if (!list.Contains(p)) list.Add(p);
        }
        return list;
    }
}
