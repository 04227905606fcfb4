using Dapper;
using Npgsql;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.ContractChecks;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>
/// Contract state from the PKI's own records: the contract certificates (profile */contract) whose CN is the EMAID.
/// The newest certificate decides (a renewal supersedes an older one). Knows nothing of contract termination: the
/// contract service adds that when it is wired in front of this source.
/// </summary>
public sealed class PostgresContractCertificateStatus(NpgsqlDataSource db, TimeProvider? clock = null) : IContractStatusSource
{
    private sealed record Row(DateTime not_before, DateTime not_after, string status);

    public async ValueTask<ContractStatus> GetAsync(Emaid emaid, CancellationToken ct = default)
    {
        // The CN may carry the EMAID with or without its check character; match both (ISO 15118-2 Annex F: a contract certificate's CN is the EMAID).
        var body = emaid.ProviderPrefix + emaid.Instance;
        var candidates = new List<string> { body, emaid.Normalized };
        if (emaid.Format == EmaidFormat.Iso15118) candidates.Add(body + ContractIdCheckCharacter.ComputeIso(body));
        await using var conn = await db.ConnectAsync(ct);
        var row = await conn.QueryFirstOrDefaultAsync<Row>(new CommandDefinition("""
            select not_before, not_after, status from certificates
            where profile_id like '%/contract' and status in ('Valid', 'Revoked')
              and upper(substring(subject from 'CN=([^,+]+)')) = any(@candidates)
            order by not_before desc, created_at desc
            limit 1
            """, new { candidates = candidates.Distinct().ToArray() }, cancellationToken: ct));
        if (row is null) return ContractStatus.Unknown(emaid.Normalized);
        var certificate = ContractCertificateStatus.Decide(Utc(row.not_before), Utc(row.not_after), row.status == "Revoked", (clock ?? TimeProvider.System).GetUtcNow());
        return new ContractStatus(emaid.Normalized, true, ContractState.Active, certificate, Utc(row.not_after), null, null);
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
