using System.Buffers.Text;
using System.Globalization;
using System.Text;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Locations;

/// <summary>The objects the hub keeps for its CPOs: Locations (with their EVSEs and Connectors) and Tariffs.</summary>
public enum HubObjectKind { Location, Tariff }

/// <summary>One stored object: its kind, the CPO that owns it (country code and party ID, upper case) and its id.</summary>
public readonly record struct HubObjectKey(HubObjectKind Kind, string CountryCode, string PartyId, string Id)
{
    public RoamingParty Cpo => new(CountryCode, PartyId);
    public static HubObjectKey Of(HubObjectKind kind, string countryCode, string partyId, string id) =>
        new(kind, countryCode.ToUpperInvariant(), partyId.ToUpperInvariant(), id);
}

/// <summary>An object as the CPO sent it: in the CPO's OCPI version, with its last_updated.</summary>
public sealed record StoredObject(HubObjectKey Key, OcpiVersion Version, DateTimeOffset LastUpdated, string Json);

/// <summary>
/// Where a page ends, for keyset pagination: the next page starts after this (last_updated, CPO, id), so the last page
/// of a large list costs what the first does. Travels in the hub's Link header as an opaque parameter.
/// </summary>
public readonly record struct PageCursor(DateTimeOffset LastUpdated, string CountryCode, string PartyId, string Id)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        $"{LastUpdated.UtcTicks.ToString(CultureInfo.InvariantCulture)}\n{CountryCode}\n{PartyId}\n{Id}"));

    public static bool TryDecode(string? text, out PageCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(text) || text.Length > 512) return false;
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split('\n');
            if (parts.Length != 4 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks) return false;
            cursor = new PageCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[1], parts[2], parts[3]);
            return true;
        }
        catch (FormatException) { return false; }
    }
}

/// <summary>A page of stored objects: of the given CPOs, last_updated in [DateFrom, DateTo), after the cursor or at the offset.</summary>
public sealed record HubObjectQuery(HubObjectKind Kind, IReadOnlyList<RoamingParty> Cpos, DateTimeOffset? DateFrom, DateTimeOffset? DateTo,
    int Offset, int Limit, PageCursor? After);

public sealed record HubObjectPage(IReadOnlyList<StoredObject> Items, int Total);

/// <summary>
/// The hub's location and tariff store (PostgreSQL, shared by the instances). A change runs in one transaction with the
/// object's row locked, so two instances applying PATCHes to one Location never lose one.
/// </summary>
public interface IHubObjectStore
{
    Task<StoredObject?> GetAsync(HubObjectKey key, CancellationToken ct = default);

    /// <summary>Finds objects of this kind with this id among the given CPOs (an eMSP asking for a Location by id alone).</summary>
    Task<IReadOnlyList<StoredObject>> FindAsync(HubObjectKind kind, string id, IReadOnlyList<RoamingParty> cpos, CancellationToken ct = default);

    /// <summary>
    /// Reads the object under a row lock, asks <paramref name="change"/> for its new state (null: delete; the same
    /// instance: nothing to write) and stores that; returns what is stored afterwards.
    /// </summary>
    Task<StoredObject?> ChangeAsync(HubObjectKey key, Func<StoredObject?, StoredObject?> change, CancellationToken ct = default);

    Task<HubObjectPage> ListAsync(HubObjectQuery query, CancellationToken ct = default);
}

/// <summary>A push to an eMSP that failed: the object is sent again, whole and as it is then, until it is taken.</summary>
public sealed record PendingPush(long Id, string PartyId, HubObjectKey Key, int Attempts);

/// <summary>Failed pushes, kept in PostgreSQL so any instance retries them; one row per (eMSP, object) coalesces repeats.</summary>
public interface IPushRetryStore
{
    Task RecordAsync(string partyId, HubObjectKey key, DateTimeOffset dueAt, CancellationToken ct = default);

    /// <summary>Claims up to <paramref name="max"/> due pushes for <paramref name="hold"/> (another instance skips them meanwhile).</summary>
    Task<IReadOnlyList<PendingPush>> ClaimDueAsync(int max, TimeSpan hold, CancellationToken ct = default);

    /// <summary>A retry that worked (or was given up) removes the row; one that failed again sets its next attempt.</summary>
    Task CompleteAsync(long id, DateTimeOffset? retryAt, CancellationToken ct = default);
}

/// <summary>The pull side: per CPO party and kind, the time the last complete incremental pull started; and the poller's lease.</summary>
public interface IPullSyncStore
{
    Task<DateTimeOffset?> LastSyncAsync(string partyId, HubObjectKind kind, CancellationToken ct = default);
    Task SetLastSyncAsync(string partyId, HubObjectKind kind, DateTimeOffset syncedFrom, CancellationToken ct = default);

    /// <summary>Takes or renews the hub-wide poller lease for <paramref name="holder"/>; false while another instance holds it.</summary>
    Task<bool> TryLeaseAsync(string holder, TimeSpan duration, CancellationToken ct = default);
}
