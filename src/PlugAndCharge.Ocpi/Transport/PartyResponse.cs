namespace PlugAndCharge.Ocpi.Transport;

public enum PartyCallOutcome
{
    /// <summary>The party answered (any HTTP status).</summary>
    Answered,
    /// <summary>No answer within the party's timeout (hub status 4002).</summary>
    Timeout,
    /// <summary>Connection refused, reset or not resolvable (hub status 4003).</summary>
    Unreachable,
    /// <summary>The party's bulkhead is full: too many calls already waiting on it (treated as a timeout).</summary>
    Busy,
}

/// <summary>What came back from a party; pagination headers are kept so the hub can pass them on.</summary>
public sealed record PartyResponse(PartyCallOutcome Outcome, int HttpStatus, byte[] Body, string? ContentType = null,
    string? TotalCount = null, string? Limit = null, string? Link = null)
{
    public static PartyResponse Failed(PartyCallOutcome outcome) => new(outcome, 0, []);
    public bool IsSuccess => Outcome == PartyCallOutcome.Answered && HttpStatus is >= 200 and < 300;
}
