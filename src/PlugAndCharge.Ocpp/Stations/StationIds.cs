namespace PlugAndCharge.Ocpp.Stations;

/// <summary>The station identity of the URL (OCPP 2.0.1 Part 4 §3.1.1: the last path segment, at most 48 characters, no ':').</summary>
public static class StationIds
{
    public const int MaxLength = 48;

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && id.All(c => c > ' ' && c < 0x7f && c != ':' && c != '/');

    public static void Validate(string id)
    {
        if (!IsValid(id)) throw new ArgumentException($"Station id '{id}' must be 1-{MaxLength} printable ASCII characters without ':' or '/'.", nameof(id));
    }
}
