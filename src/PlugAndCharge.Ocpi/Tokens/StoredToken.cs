namespace PlugAndCharge.Ocpi.Tokens;

/// <summary>
/// A token an eMSP pushed, kept in its 2.3.0 (canonical) form: type EMAID for EMAIDs whatever version the eMSP
/// speaks, uid normalized. <see cref="Json"/> is the whole Token object as the eMSP sent it (after that normalization).
/// </summary>
public sealed record StoredToken(string CountryCode, string PartyId, string Uid, string Type, string? Whitelist, DateTimeOffset LastUpdated, string Json);

/// <param name="Owners">When set, only tokens of these eMSPs (the ones the asking CPO has a roaming agreement with).</param>
public sealed record TokenQuery(DateTimeOffset? DateFrom, DateTimeOffset? DateTo, int Offset, int Limit, string? OwnerCountryCode = null, string? OwnerPartyId = null,
    IReadOnlyCollection<Agreements.RoamingParty>? Owners = null);

public sealed record TokenPage(IReadOnlyList<StoredToken> Items, int Total);

/// <summary>The tokens eMSPs pushed to the hub.</summary>
public interface IOcpiTokenStore
{
    /// <summary>Inserts or replaces a token; true when it was new.</summary>
    Task<bool> PutAsync(StoredToken token, CancellationToken ct = default);
    Task<StoredToken?> GetAsync(string countryCode, string partyId, string uid, string type, CancellationToken ct = default);
    /// <summary>The token with this uid and type whoever owns it (routing an authorization that has no OCPI-to headers).</summary>
    Task<StoredToken?> FindAsync(string uid, string type, CancellationToken ct = default);
    /// <summary>A page ordered by last_updated; <c>date_from</c> inclusive, <c>date_to</c> exclusive (OCPI pagination).</summary>
    Task<TokenPage> ListAsync(TokenQuery query, CancellationToken ct = default);
}
