namespace PlugAndCharge.Ocpi.Parties;

/// <summary>Where the hub keeps its parties. Each call is one transaction: a party is written whole or not at all.</summary>
public interface IOcpiPartyStore
{
    Task<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default);

    /// <summary>Adds a party; <see cref="OcpiConflictException"/> when its id, a role or a provider prefix belongs to another party.</summary>
    Task CreateAsync(PartyRecord party, CancellationToken ct = default);

    /// <summary>
    /// Replaces a party with the same id (roles, provider prefixes, endpoints and tokens included) if its stored
    /// <see cref="PartyRecord.RowVersion"/> is still the one <paramref name="party"/> carries, and stores it with the next
    /// version; <see cref="OcpiConcurrencyException"/> when another write came first.
    /// </summary>
    Task UpdateAsync(PartyRecord party, CancellationToken ct = default);
}

/// <summary>Another writer changed the party since it was read: read it again and decide again, never overwrite.</summary>
public sealed class OcpiConcurrencyException(string message) : Exception(message);

/// <summary>
/// A change was refused because the party is no longer what it was when the change began (its credentials were
/// revoked, it was suspended or it unregistered meanwhile).
/// </summary>
public sealed class OcpiPartyChangedException(string message) : Exception(message);

/// <summary>A write would give a role, a provider prefix, a token or an id to a second party.</summary>
public sealed class OcpiConflictException(string message, Exception? inner = null) : Exception(message, inner);
