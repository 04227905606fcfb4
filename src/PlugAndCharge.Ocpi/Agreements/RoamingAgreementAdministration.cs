using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.Ocpi.Agreements;

/// <summary>
/// What the hub operator does with agreements: record one for a CPO/eMSP pair, change its validity or scope, suspend,
/// resume or end it. Each change is stored (and audited) by the store, checked against the row version the operator
/// read, and enforced on this instance at once (<see cref="RoamingAgreementBook"/>). An ended agreement is kept for the
/// record and changes no more; the pair may then get a new one.
/// </summary>
public sealed class RoamingAgreementAdministration(IRoamingAgreementStore store, RoamingAgreementBook book, TimeProvider clock)
{
    public sealed record NewAgreement(RoamingParty Cpo, RoamingParty Emsp, IReadOnlyCollection<AgreementScope> Scopes,
        DateTimeOffset? ValidFrom = null, DateTimeOffset? ValidTo = null, AgreementStatus Status = AgreementStatus.Active);

    /// <summary>A change; null fields stay as they are. <paramref name="ExpectedRowVersion"/> is the version the operator read (If-Match).</summary>
    public sealed record AgreementChange(long? ExpectedRowVersion, AgreementStatus? Status = null, IReadOnlyCollection<AgreementScope>? Scopes = null,
        DateTimeOffset? ValidFrom = null, DateTimeOffset? ValidTo = null, bool ClearValidFrom = false, bool ClearValidTo = false);

    public async Task<RoamingAgreement> CreateAsync(NewAgreement request, string actor, CancellationToken ct = default)
    {
        var agreement = Checked(new RoamingAgreement
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Cpo = Normalized(request.Cpo, "CPO"),
            Emsp = Normalized(request.Emsp, "eMSP"),
            Status = request.Status == AgreementStatus.Ended ? throw new ArgumentException("A new agreement cannot be ended already.") : request.Status,
            ValidFrom = request.ValidFrom,
            ValidTo = request.ValidTo,
            Scopes = request.Scopes.ToHashSet(),
            UpdatedAt = clock.GetUtcNow(),
        });
        var stored = await store.CreateAsync(agreement, actor, ct);
        await book.ApplyAsync(stored, ct);
        return stored;
    }

    public async Task<RoamingAgreement> ChangeAsync(string id, AgreementChange change, string actor, CancellationToken ct = default)
    {
        var current = (await store.ListAsync(ct)).FirstOrDefault(a => a.Id == id) ?? throw new KeyNotFoundException($"No roaming agreement '{id}'.");
        if (change.ExpectedRowVersion is { } expected && expected != current.RowVersion)
            throw new OcpiConcurrencyException($"Roaming agreement '{id}' is at version {current.RowVersion}, not {expected}: read it again.");
        if (current.Status == AgreementStatus.Ended)
            throw new OcpiConflictException($"Roaming agreement '{id}' has ended; record a new agreement for the pair instead.");
        var changed = Checked(current with
        {
            Status = change.Status ?? current.Status,
            Scopes = change.Scopes?.ToHashSet() ?? current.Scopes,
            ValidFrom = change.ClearValidFrom ? null : change.ValidFrom ?? current.ValidFrom,
            ValidTo = change.ClearValidTo ? null : change.ValidTo ?? current.ValidTo,
            UpdatedAt = clock.GetUtcNow(),
        });
        var stored = await store.UpdateAsync(changed, actor, ct);
        await book.ApplyAsync(stored, ct);
        return stored;
    }

    public Task<RoamingAgreement> SuspendAsync(string id, long? expectedRowVersion, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, new AgreementChange(expectedRowVersion, AgreementStatus.Suspended), actor, ct);

    public Task<RoamingAgreement> ResumeAsync(string id, long? expectedRowVersion, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, new AgreementChange(expectedRowVersion, AgreementStatus.Active), actor, ct);

    public Task<RoamingAgreement> EndAsync(string id, long? expectedRowVersion, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, new AgreementChange(expectedRowVersion, AgreementStatus.Ended), actor, ct);

    /// <summary>The stored agreements (not a cached view: the operator sees what every instance will enforce).</summary>
    public Task<IReadOnlyList<RoamingAgreement>> ListAsync(CancellationToken ct = default) => store.ListAsync(ct);

    public async Task<RoamingAgreement?> GetAsync(string id, CancellationToken ct = default) =>
        (await store.ListAsync(ct)).FirstOrDefault(a => a.Id == id);

    private static RoamingAgreement Checked(RoamingAgreement a)
    {
        if (a.Scopes.Count == 0) throw new ArgumentException("An agreement covers at least one scope.");
        if (a.ValidFrom is { } from && a.ValidTo is { } to && to <= from) throw new ArgumentException("valid_to must be after valid_from.");
        return a;
    }

    /// <summary>OCPI country code (ISO 3166-1 alpha-2) and party ID (3 characters), upper-case.</summary>
    private static RoamingParty Normalized(RoamingParty p, string what)
    {
        var cc = (p.CountryCode ?? "").Trim().ToUpperInvariant();
        var pid = (p.PartyId ?? "").Trim().ToUpperInvariant();
        if (cc.Length != 2 || !cc.All(char.IsAsciiLetter) || pid.Length != 3 || !pid.All(char.IsAsciiLetterOrDigit))
            throw new ArgumentException($"The {what} '{p.CountryCode}-{p.PartyId}' is not a 2-letter country code and a 3-character party ID.");
        return new RoamingParty(cc, pid);
    }
}
