namespace PlugAndCharge.Ocpi.Parties;

/// <summary>Connection status of a party as hubclientinfo reports it (ConnectionStatus enum).</summary>
public enum PartyStatus { Planned, Connected, Offline, Suspended }

/// <summary>Which credentials token the party holds: token A before registration, token C after.</summary>
public enum CredentialsTokenKind { None, A, C }

/// <summary>One role of a party: role (CPO, EMSP, ...) with its OCPI country code and party ID.</summary>
public sealed record PartyRole(string Role, string CountryCode, string PartyId, string? BusinessName = null)
{
    public bool Is(string role, string countryCode, string partyId) =>
        string.Equals(Role, role, StringComparison.OrdinalIgnoreCase) && SameParty(countryCode, partyId);

    public bool SameParty(string countryCode, string partyId) =>
        string.Equals(CountryCode, countryCode, StringComparison.OrdinalIgnoreCase) && string.Equals(PartyId, partyId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>A module endpoint of the party, from its version details.</summary>
public sealed record PartyEndpoint(string Identifier, string Role, string Url);

/// <summary>
/// A party connected to the hub. <see cref="IncomingTokenHash"/> is the SHA-256 of the token the party presents (A or C);
/// <see cref="OutgoingToken"/> is the party's token B that the hub presents when it calls the party.
/// </summary>
public sealed record PartyRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public PartyStatus Status { get; init; } = PartyStatus.Planned;
    public IReadOnlyList<PartyRole> Roles { get; init; } = [];
    /// <summary>eMI3 provider prefixes (country + provider ID, e.g. DE8AC) whose EMAIDs this party issues.</summary>
    public IReadOnlyList<string> ProviderPrefixes { get; init; } = [];
    public string? Version { get; init; }
    public string? VersionsUrl { get; init; }
    public string? OutgoingToken { get; init; }
    public IReadOnlyList<PartyEndpoint> Endpoints { get; init; } = [];
    public string? IncomingTokenHash { get; init; }
    public CredentialsTokenKind IncomingTokenKind { get; init; }
    /// <summary>How long the hub waits for this party; null uses the hub default.</summary>
    public TimeSpan? Timeout { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? LastSeenAt { get; init; }
    /// <summary>
    /// The stored row's version (optimistic concurrency): a write names the version it read and the store refuses it
    /// when another writer (here or on another instance) came first.
    /// </summary>
    public long RowVersion { get; init; }

    public bool IsRegistered => IncomingTokenKind == CredentialsTokenKind.C && OutgoingToken != null && Version != null;

    public PartyEndpoint? Endpoint(string module, string interfaceRole)
    {
        foreach (var e in Endpoints)
            if (string.Equals(e.Identifier, module, StringComparison.OrdinalIgnoreCase) && string.Equals(e.Role, interfaceRole, StringComparison.OrdinalIgnoreCase)) return e;
        // 2.1.1-style details carry no role: one endpoint for the module serves both interfaces.
        foreach (var e in Endpoints)
            if (string.Equals(e.Identifier, module, StringComparison.OrdinalIgnoreCase) && string.IsNullOrEmpty(e.Role)) return e;
        return null;
    }

    public bool HasRole(string role)
    {
        foreach (var r in Roles) if (string.Equals(r.Role, role, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    public PartyRole? FindRole(string countryCode, string partyId)
    {
        foreach (var r in Roles) if (r.SameParty(countryCode, partyId)) return r;
        return null;
    }
}
