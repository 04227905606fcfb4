using Dapper;
using Npgsql;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>The CPS leaf every instance signs with, per ISO standard: which certificate and which key URI.</summary>
public sealed record CpsSigningLeaf(string Standard, string SubCaId, string SerialNumber, string KeyUri, byte[] Der);

/// <summary>
/// The current CPS signing leaves in PostgreSQL, so instances sharing a database share the leaf instead of issuing
/// their own at every start. A renewal is claimed by a lease row (insert ... on conflict), not a lock: the instance
/// that takes it issues the next leaf while the others wait for it, and a crashed renewer's lease simply runs out.
/// </summary>
public sealed class PostgresCpsSigningLeaves(NpgsqlDataSource db)
{
    private sealed record Row(string standard, string? sub_ca_id, string? serial_number, string? key_uri, byte[]? der);

    public async Task<CpsSigningLeaf?> GetAsync(string standard, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "select standard, sub_ca_id, serial_number, key_uri, der from cps_signing_leaves where standard = @standard", new { standard }, cancellationToken: ct));
        return row is { sub_ca_id: { } s, serial_number: { } n, key_uri: { } k, der: { } d } ? new CpsSigningLeaf(row.standard, s, n, k, d) : null;
    }

    /// <summary>
    /// Claims the renewal of the leaf that was <paramref name="seenSerial"/> (null: none) for <paramref name="hold"/>:
    /// false when another instance holds a live claim or already replaced that leaf (read it again).
    /// </summary>
    public async Task<bool> TryClaimRenewalAsync(string standard, string? seenSerial, TimeSpan hold, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("""
            insert into cps_signing_leaves (standard, renewing_until) values (@standard, now() + @hold)
            on conflict (standard) do update set renewing_until = excluded.renewing_until
            where (cps_signing_leaves.renewing_until is null or cps_signing_leaves.renewing_until < now())
              and cps_signing_leaves.serial_number is not distinct from @seenSerial
            returning true
            """, new { standard, seenSerial, hold }, cancellationToken: ct));
    }

    /// <summary>The renewer stores the new leaf and ends its claim.</summary>
    public async Task StoreAsync(CpsSigningLeaf leaf, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update cps_signing_leaves set sub_ca_id = @SubCaId, serial_number = @SerialNumber, key_uri = @KeyUri, der = @Der, updated_at = now(), renewing_until = null
            where standard = @Standard
            """, leaf, cancellationToken: ct));
    }

    /// <summary>The renewal failed: others may try at once.</summary>
    public async Task ReleaseRenewalAsync(string standard, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("update cps_signing_leaves set renewing_until = null where standard = @standard", new { standard }, cancellationToken: ct));
    }
}
