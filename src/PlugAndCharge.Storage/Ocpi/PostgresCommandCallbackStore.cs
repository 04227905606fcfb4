using Dapper;
using Npgsql;
using PlugAndCharge.Ocpi.Routing;

namespace PlugAndCharge.Storage.Ocpi;

/// <summary>
/// Pending OCPI command callbacks on PostgreSQL, shared by every hub instance: the CPO's CommandResult may reach any
/// of them, and the per-sender budget counts the commands of all of them.
/// </summary>
public sealed class PostgresCommandCallbackStore(NpgsqlDataSource db) : ICommandCallbackStore
{
    private sealed record Row(string response_url, string sender_party_id, string receiver_party_id, string? sender_country_code, string? sender_party_code,
        string? receiver_country_code, string? receiver_party_code)
    {
        public PendingCommand ToCommand() => new(response_url, sender_party_id, receiver_party_id, sender_country_code, sender_party_code, receiver_country_code, receiver_party_code);
    }

    private sealed record State(string receiver_party_id, DateTime expires_at, DateTime? claimed_until);

    public async Task<CommandSlot> RegisterAsync(string id, PendingCommand c, int maxPerSender, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Count-then-insert is a race between instances; a transaction-scoped lock per sender (released at commit, two
        // statements later, never across a call to a party) makes the budget hold hub-wide.
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended('ocpi-command-callbacks:' || @SenderPartyId, 0))",
            new { c.SenderPartyId }, tx, cancellationToken: ct));
        var inserted = await conn.ExecuteAsync(new CommandDefinition("""
            insert into ocpi_command_callbacks (id, response_url, sender_party_id, receiver_party_id, sender_country_code, sender_party_code,
                receiver_country_code, receiver_party_code, expires_at)
            select @id, @ResponseUrl, @SenderPartyId, @ReceiverPartyId, @SenderCountryCode, @SenderPartyCode, @ReceiverCountryCode, @ReceiverPartyCode, @expiresAt
            where (select count(*) from ocpi_command_callbacks where sender_party_id = @SenderPartyId and expires_at > @now) < @maxPerSender
            """, new
        {
            id, c.ResponseUrl, c.SenderPartyId, c.ReceiverPartyId, c.SenderCountryCode, c.SenderPartyCode, c.ReceiverCountryCode, c.ReceiverPartyCode,
            expiresAt, now, maxPerSender = (long)maxPerSender,
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return inserted == 1 ? new CommandSlot(id, false, false) : new CommandSlot(null, PartyFull: true, HubFull: false);
    }

    public async Task<CommandClaim> ClaimAsync(string id, string receiverPartyId, DateTimeOffset now, DateTimeOffset claimUntil, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        // One statement: under concurrent posts PostgreSQL re-checks the condition on the row the first one updated, so
        // only one gets it back.
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition("""
            update ocpi_command_callbacks set claimed_until = @claimUntil
            where id = @id and receiver_party_id = @receiverPartyId and expires_at > @now and (claimed_until is null or claimed_until <= @now)
            returning response_url, sender_party_id, receiver_party_id, sender_country_code, sender_party_code, receiver_country_code, receiver_party_code
            """, new { id, receiverPartyId, now, claimUntil }, cancellationToken: ct));
        if (row != null) return new CommandClaim(CommandClaimStatus.Claimed, row.ToCommand());
        var state = await conn.QuerySingleOrDefaultAsync<State>(new CommandDefinition(
            "select receiver_party_id, expires_at, claimed_until from ocpi_command_callbacks where id = @id", new { id }, cancellationToken: ct));
        if (state == null || Utc(state.expires_at) <= now) return new CommandClaim(CommandClaimStatus.Unknown, null);
        return new CommandClaim(state.receiver_party_id != receiverPartyId ? CommandClaimStatus.NotYours : CommandClaimStatus.InFlight, null);
    }

    public async Task CompleteAsync(string id, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("delete from ocpi_command_callbacks where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task ReleaseAsync(string id, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("update ocpi_command_callbacks set claimed_until = null where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await db.ConnectAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("delete from ocpi_command_callbacks where expires_at <= @now", new { now }, cancellationToken: ct));
    }

    private static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));
}
