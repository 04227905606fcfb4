using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Agreements;

/// <summary>Where an agreement stands: only an active one lets its pair roam; an ended one is kept for the record.</summary>
public enum AgreementStatus { Active, Suspended, Ended }

/// <summary>
/// What the hub operator recorded for one CPO role and one eMSP role: status, validity (from inclusive, to exclusive;
/// open-ended when null) and the scopes it covers. <see cref="RowVersion"/> is the stored row's version: a change names
/// the version it read and the store refuses it when another writer came first.
/// </summary>
public sealed record RoamingAgreement
{
    public required string Id { get; init; }
    public required RoamingParty Cpo { get; init; }
    public required RoamingParty Emsp { get; init; }
    public AgreementStatus Status { get; init; } = AgreementStatus.Active;
    public DateTimeOffset? ValidFrom { get; init; }
    public DateTimeOffset? ValidTo { get; init; }
    public IReadOnlySet<AgreementScope> Scopes { get; init; } = new HashSet<AgreementScope>();
    public DateTimeOffset UpdatedAt { get; init; }
    public long RowVersion { get; init; }

    /// <summary>Whether this agreement lets its pair exchange <paramref name="scope"/> at <paramref name="now"/>; the refusal names why not.</summary>
    public AgreementDecision Decide(AgreementScope scope, DateTimeOffset now)
    {
        var pair = $"The roaming agreement {Id} between CPO {Cpo} and eMSP {Emsp}";
        if (Status != AgreementStatus.Active) return AgreementDecision.Refuse($"{pair} is {Status.ToString().ToLowerInvariant()}.");
        if (ValidFrom is { } from && now < from) return AgreementDecision.Refuse($"{pair} is valid only from {UtcTimestampConverter.Format(from)}.");
        if (ValidTo is { } to && now >= to) return AgreementDecision.Refuse($"{pair} ended on {UtcTimestampConverter.Format(to)}.");
        return Scopes.Contains(scope) ? AgreementDecision.Allow : AgreementDecision.Refuse($"{pair} does not cover {scope}.");
    }
}

/// <summary>
/// The pair an agreement governs for two party roles that talk through the hub: a CPO and an eMSP, in either order.
/// Other pairs (two CPOs, an NSP, an SCSP, the hub's HUB role) are not governed by roaming agreements.
/// </summary>
public static class AgreementPair
{
    public static (RoamingParty Cpo, RoamingParty Emsp)? Of(PartyRole a, PartyRole b)
    {
        if (Is(a, Roles.Cpo) && Is(b, Roles.Emsp)) return (Party(a), Party(b));
        if (Is(a, Roles.Emsp) && Is(b, Roles.Cpo)) return (Party(b), Party(a));
        return null;
    }

    /// <summary>The role of <paramref name="other"/> that forms a governed pair with <paramref name="role"/>, else its first role.</summary>
    public static PartyRole? Counterpart(PartyRole? role, PartyRecord other) =>
        other.Roles.FirstOrDefault(r => role is not null && Of(role, r) is not null)
        ?? other.Roles.FirstOrDefault(r => role is not null && Opposite(role, r))
        ?? other.Roles.FirstOrDefault();

    /// <summary>
    /// Whether <paramref name="to"/> has the "opposite role" of <paramref name="from"/> (2.2.1/2.3.0 Broadcast Push: CPO to
    /// eMSP, NSP and OTHER; eMSP and OTHER to CPO). Roles OCPI names no opposite for (SCSP, NAP) go anywhere.
    /// </summary>
    public static bool Opposite(PartyRole? from, PartyRole? to)
    {
        if (from is null || to is null) return true;
        if (Is(from, Roles.Cpo)) return Is(to, Roles.Emsp) || Is(to, "NSP") || Is(to, Roles.Other) || Is(to, "SCSP") || Is(to, "NAP");
        if (Is(from, Roles.Emsp) || Is(from, Roles.Other)) return Is(to, Roles.Cpo);
        return true;
    }

    public static RoamingParty Party(PartyRole role) => new(role.CountryCode.ToUpperInvariant(), role.PartyId.ToUpperInvariant());

    private static bool Is(PartyRole r, string role) => string.Equals(r.Role, role, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Where the hub keeps its agreements. Every change is one transaction with its audit entry (the actor says who).</summary>
public interface IRoamingAgreementStore
{
    Task<IReadOnlyList<RoamingAgreement>> ListAsync(CancellationToken ct = default);

    /// <summary>Adds an agreement; <see cref="OcpiConflictException"/> when its pair already has one (change that one instead).</summary>
    Task<RoamingAgreement> CreateAsync(RoamingAgreement agreement, string actor, CancellationToken ct = default);

    /// <summary>
    /// Replaces the agreement with the same id if its stored row version is still <see cref="RoamingAgreement.RowVersion"/>;
    /// returns it with the next version. <see cref="OcpiConcurrencyException"/> when another write came first,
    /// <see cref="KeyNotFoundException"/> when there is no such agreement.
    /// </summary>
    Task<RoamingAgreement> UpdateAsync(RoamingAgreement agreement, string actor, CancellationToken ct = default);
}

public static class RoamingAgreementDecisions
{
    /// <summary>
    /// The decision for two party roles talking through the hub: their agreement when they are a CPO and an eMSP; any
    /// other pair, or a side the hub cannot name, is not governed by agreements and allowed.
    /// </summary>
    public static ValueTask<AgreementDecision> DecideAsync(this IRoamingAgreements agreements, PartyRole? a, PartyRole? b, AgreementScope scope, CancellationToken ct) =>
        a is not null && b is not null && AgreementPair.Of(a, b) is { } pair
            ? agreements.DecideAsync(pair.Cpo, pair.Emsp, scope, ct)
            : ValueTask.FromResult(AgreementDecision.Allow);

    /// <summary>
    /// Whether a party with <paramref name="roles"/> may reach <paramref name="other"/> through the hub at all: some
    /// scope agreed between a CPO and an eMSP, or a pair agreements do not govern (what hubclientinfo and the 2.3.0
    /// credentials' roles list for it).
    /// </summary>
    public static async ValueTask<bool> MayReachAsync(this IRoamingAgreements agreements, IReadOnlyList<PartyRole> roles, PartyRole other, CancellationToken ct)
    {
        var governed = false;
        foreach (var role in roles)
        {
            if (AgreementPair.Of(role, other) is not { } pair) continue;
            governed = true;
            foreach (var scope in Enum.GetValues<AgreementScope>())
                if ((await agreements.DecideAsync(pair.Cpo, pair.Emsp, scope, ct)).Allowed) return true;
        }
        return !governed;
    }

    /// <summary>The module an OCPI request is for, as an agreement scope; null for modules agreements do not govern (charging profiles).</summary>
    public static AgreementScope? ScopeOf(string module) => module switch
    {
        "locations" => AgreementScope.Locations,
        "tariffs" => AgreementScope.Tariffs,
        "sessions" => AgreementScope.Sessions,
        "cdrs" => AgreementScope.Cdrs,
        "commands" => AgreementScope.Commands,
        "tokens" => AgreementScope.Tokens,
        _ => null,
    };
}

/// <summary>Agreement scopes and statuses as the admin API, the CLI and the party-facing read write them: lower-case, words joined by '-'.</summary>
public static class AgreementText
{
    public static string Of(AgreementScope scope) => scope switch
    {
        AgreementScope.RealTimeAuthorization => "real-time-authorization",
        AgreementScope.PlugAndCharge => "plug-and-charge",
        _ => scope.ToString().ToLowerInvariant(),
    };

    public static string Of(AgreementStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>Reads a scope in that form (or the enum name, any case); <see cref="ArgumentException"/> naming the valid ones.</summary>
    public static AgreementScope Scope(string text) =>
        Enum.TryParse<AgreementScope>((text ?? "").Replace("-", "").Replace("_", "").Trim(), ignoreCase: true, out var s) && Enum.IsDefined(s)
            ? s
            : throw new ArgumentException($"'{text}' is not an agreement scope ({string.Join(", ", Enum.GetValues<AgreementScope>().Select(Of))}).");

    public static AgreementStatus Status(string text) =>
        Enum.TryParse<AgreementStatus>((text ?? "").Trim(), ignoreCase: true, out var s) && Enum.IsDefined(s)
            ? s
            : throw new ArgumentException($"'{text}' is not an agreement status (active, suspended, ended).");

    /// <summary>"DE-ABC" (or "DEABC") as a party; <see cref="ArgumentException"/> otherwise.</summary>
    public static RoamingParty Party(string text)
    {
        var t = (text ?? "").Replace("-", "").Replace("*", "").Trim();
        return t.Length == 5 ? new RoamingParty(t[..2].ToUpperInvariant(), t[2..].ToUpperInvariant())
            : throw new ArgumentException($"'{text}' is not a party as country code and party ID (e.g. DE-ABC).");
    }
}
