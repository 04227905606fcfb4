using System.Text.Json;
using System.Text.Json.Nodes;

namespace PlugAndCharge.Ocpi.Protocol;

// The OCPI objects the hub reads or writes itself. Objects it only relays (locations, sessions, CDRs, tariffs,
// commands) stay raw JSON so the hub never drops a field it does not know.

public sealed record OcpiEnvelope<T>(T? Data, int StatusCode, string? StatusMessage, DateTimeOffset Timestamp);

/// <summary>An envelope read from a peer: data left as JSON so each caller reads what it needs.</summary>
public sealed record OcpiEnvelopeIn(JsonElement Data, int StatusCode, string? StatusMessage, DateTimeOffset? Timestamp);

public sealed record VersionEntry(string Version, string Url);

public sealed record EndpointEntry(string Identifier, string Role, string Url);

public sealed record VersionDetails(string Version, List<EndpointEntry> Endpoints);

public sealed record BusinessDetails(string Name, string? Website = null, JsonElement? Logo = null);

public sealed record CredentialsRole(string Role, BusinessDetails BusinessDetails, string PartyId, string CountryCode);

public sealed record Credentials(string Token, string Url, List<CredentialsRole> Roles, string? HubPartyId = null);

public sealed record ClientInfo(string PartyId, string CountryCode, string Role, string Status, DateTimeOffset LastUpdated);

public sealed record LocationReferences(string LocationId, List<string>? EvseUids = null);

public sealed record DisplayText(string Language, string Text);

/// <summary>AuthorizationInfo as the hub writes it when it answers without the eMSP (contract status, whitelist).</summary>
public sealed record AuthorizationInfo(string Allowed, JsonObject Token, LocationReferences? Location, string? AuthorizationReference, DisplayText? Info);

public static class AllowedType
{
    public const string Allowed = "ALLOWED";
    public const string Blocked = "BLOCKED";
    public const string Expired = "EXPIRED";
    public const string NoCredit = "NO_CREDIT";
    public const string NotAllowed = "NOT_ALLOWED";
}

public static class TokenTypes
{
    public const string Rfid = "RFID";
    public const string Emaid = "EMAID";
    public const string Other = "OTHER";
    public const string AppUser = "APP_USER";
    public const string AdHocUser = "AD_HOC_USER";
}

public static class WhitelistTypes
{
    public const string Always = "ALWAYS";
    public const string Allowed = "ALLOWED";
    public const string AllowedOffline = "ALLOWED_OFFLINE";
    public const string Never = "NEVER";
}

public static class Roles
{
    public const string Cpo = "CPO";
    public const string Emsp = "EMSP";
    public const string Hub = "HUB";
    public const string Other = "OTHER";

    private static readonly HashSet<string> Known = ["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"];

    public static bool IsKnown(string role) => Known.Contains(role);
}

public static class InterfaceRoles
{
    public const string Sender = "SENDER";
    public const string Receiver = "RECEIVER";
}
