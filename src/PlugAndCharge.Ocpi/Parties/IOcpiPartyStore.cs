namespace PlugAndCharge.Ocpi.Parties;

/// <summary>Where the hub keeps its parties. Each call is one transaction: a party is written whole or not at all.</summary>
public interface IOcpiPartyStore
{
    Task<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default);

    /// <summary>Adds a party; <see cref="OcpiConflictException"/> when its id, a role or a provider prefix belongs to another party.</summary>
    Task CreateAsync(PartyRecord party, CancellationToken ct = default);

    /// <summary>Replaces a party with the same id (roles, provider prefixes, endpoints and tokens included).</summary>
    Task UpdateAsync(PartyRecord party, CancellationToken ct = default);
}

/// <summary>A write would give a role, a provider prefix, a token or an id to a second party.</summary>
public sealed class OcpiConflictException(string message, Exception? inner = null) : Exception(message, inner);
