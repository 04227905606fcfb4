using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Routing;

/// <summary>A functional-module request that reached the hub and has to go on to one or more parties.</summary>
public sealed record RoutedRequest(
    PartyRecord Caller,
    OcpiVersion Version,
    string InterfaceRole,
    string Module,
    string Rest,
    string Query,
    HttpMethod Method,
    byte[] Body,
    string CorrelationId,
    string? FromCountryCode,
    string? FromPartyId,
    string? ToCountryCode,
    string? ToPartyId,
    string HubModuleUrl,
    Pagination? Page);

/// <summary>What goes back to the caller, pagination headers included.</summary>
public sealed record RoutedAnswer(int HttpStatus, byte[] Body, string? TotalCount = null, string? Limit = null, string? Link = null);
