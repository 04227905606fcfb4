using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;

namespace PlugAndCharge.TestSupport.Ocpi;

/// <summary>Roaming agreements in memory (tests that do not look at agreements; the agreement tests use PostgreSQL).</summary>
public sealed class InMemoryRoamingAgreementStore : IRoamingAgreementStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RoamingAgreement> _agreements = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<RoamingAgreement>> ListAsync(CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<RoamingAgreement>>(_agreements.Values.ToList());
    }

    public Task<RoamingAgreement> CreateAsync(RoamingAgreement agreement, string actor, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_agreements.Values.Any(a => a.Status != AgreementStatus.Ended && a.Cpo == agreement.Cpo && a.Emsp == agreement.Emsp))
                throw new OcpiConflictException($"CPO {agreement.Cpo} and eMSP {agreement.Emsp} have an agreement already.");
            _agreements[agreement.Id] = agreement with { RowVersion = 0 };
            return Task.FromResult(_agreements[agreement.Id]);
        }
    }

    public Task<RoamingAgreement> UpdateAsync(RoamingAgreement agreement, string actor, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_agreements.TryGetValue(agreement.Id, out var current)) throw new KeyNotFoundException($"No roaming agreement '{agreement.Id}'.");
            if (current.RowVersion != agreement.RowVersion) throw new OcpiConcurrencyException($"Roaming agreement '{agreement.Id}' was changed by someone else.");
            _agreements[agreement.Id] = agreement with { RowVersion = current.RowVersion + 1 };
            return Task.FromResult(_agreements[agreement.Id]);
        }
    }
}
