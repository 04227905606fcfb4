using Dapper;
using Npgsql;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage.Contracts;

/// <summary>
/// Webhook endpoints and the delivery outbox on PostgreSQL. The other stores enqueue events in their own transactions
/// (<see cref="EnqueueAsync"/>, <see cref="OutboxInsert"/>).
/// </summary>
public sealed class PostgresWebhookStore : PostgresStore, IWebhookStore
{
    public PostgresWebhookStore(NpgsqlDataSource db, TimeProvider? clock = null) : base(db, clock) { }

    /// <summary>
    /// Fans events out to the enabled endpoints of the OEM owning each PCID, inside the caller's transaction, in one
    /// statement (the vehicle row must still exist: a deletion enqueues before it deletes).
    /// </summary>
    internal static async Task EnqueueAsync(NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<WebhookEvent> events)
    {
        if (OutboxInsert(events) is not { } insert) return;
        await using var batch = new NpgsqlBatch(c, tx) { BatchCommands = { insert } };
        await batch.ExecuteNonQueryAsync();
    }

    internal static NpgsqlBatchCommand? OutboxInsert(IReadOnlyList<WebhookEvent> events) => events.Count == 0 ? null : new NpgsqlBatchCommand("""
        insert into webhook_outbox(id, endpoint_id, event_id, event_type, payload, state, attempts, next_attempt_at)
        select gen_random_uuid(), e.id, u.event_id, u.event_type, u.payload, 'Pending', 0, u.at
        from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) as u(event_id, event_type, payload, at, pcid)
        join provisioning_certificates p on p.pcid = u.pcid
        join webhook_endpoints e on e.owner_id = p.oem_id and e.status = 'Enabled' and u.event_type = any(e.enabled_events)
        """)
    {
        Parameters =
        {
            new() { Value = events.Select(e => e.EventId).ToArray() }, new() { Value = events.Select(e => e.EventType).ToArray() },
            new() { Value = events.Select(e => e.Payload).ToArray() }, new() { Value = events.Select(e => e.At.UtcDateTime).ToArray() },
            new() { Value = events.Select(e => e.Pcid).ToArray() },
        },
    };

    private sealed class EndpointRow
    {
        public Guid id { get; set; }
        public string owner_id { get; set; } = null!;
        public string url { get; set; } = null!;
        public string[] enabled_events { get; set; } = null!;
        public byte[] wrapped_secret { get; set; } = null!;
        public string? description { get; set; }
        public string status { get; set; } = null!;
        public DateTime created_at { get; set; }

        public WebhookEndpoint ToRecord() => new()
        {
            Id = id, OwnerId = owner_id, Url = new Uri(url), EnabledEvents = enabled_events, WrappedSecret = wrapped_secret, Description = description,
            Status = Enum.Parse<WebhookEndpointStatus>(status), CreatedAt = Utc(created_at),
        };
    }

    private const string EndpointColumns = "id, owner_id, url, enabled_events, wrapped_secret, description, status, created_at";

    public Task AddEndpointAsync(WebhookEndpoint e, AuditEvent audit, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync($"insert into webhook_endpoints({EndpointColumns}) values (@Id, @OwnerId, @Url, @EnabledEvents, @WrappedSecret, @Description, @Status, @CreatedAt)",
                new { e.Id, e.OwnerId, Url = e.Url.ToString(), EnabledEvents = e.EnabledEvents.ToArray(), e.WrappedSecret, e.Description, Status = e.Status.ToString(), CreatedAt = e.CreatedAt.UtcDateTime }, tx);
            await AuditAsync(c, tx, audit);
        }, ct);

    public async Task<WebhookEndpoint?> GetEndpointAsync(Guid id, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QuerySingleOrDefaultAsync<EndpointRow>($"select {EndpointColumns} from webhook_endpoints where id = @id", new { id }))?.ToRecord();
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(string ownerId, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<EndpointRow>($"select {EndpointColumns} from webhook_endpoints where owner_id = @ownerId order by created_at", new { ownerId })).Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> UpdateEndpointAsync(WebhookEndpoint e, AuditEvent audit, CancellationToken ct = default)
    {
        var updated = false;
        await InTransactionAsync(async (c, tx) =>
        {
            updated = await c.ExecuteAsync("update webhook_endpoints set url = @Url, enabled_events = @EnabledEvents, description = @Description, status = @Status where id = @Id",
                new { e.Id, Url = e.Url.ToString(), EnabledEvents = e.EnabledEvents.ToArray(), e.Description, Status = e.Status.ToString() }, tx) == 1;
            if (updated) await AuditAsync(c, tx, audit);
        }, ct);
        return updated;
    }

    public async Task<bool> DeleteEndpointAsync(Guid id, AuditEvent audit, CancellationToken ct = default)
    {
        var deleted = false;
        await InTransactionAsync(async (c, tx) =>
        {
            deleted = await c.ExecuteAsync("delete from webhook_endpoints where id = @id", new { id }, tx) == 1;
            if (deleted) await AuditAsync(c, tx, audit);
        }, ct);
        return deleted;
    }

    private sealed class DeliveryRow
    {
        public Guid id { get; set; }
        public Guid endpoint_id { get; set; }
        public Guid event_id { get; set; }
        public string event_type { get; set; } = null!;
        public string payload { get; set; } = null!;
        public string state { get; set; } = null!;
        public int attempts { get; set; }
        public DateTime next_attempt_at { get; set; }
        public int? last_status_code { get; set; }
        public string? last_error { get; set; }
        public DateTime? delivered_at { get; set; }

        public WebhookDelivery ToRecord() => new()
        {
            Id = id, EndpointId = endpoint_id, EventId = event_id, EventType = event_type, Payload = payload, State = Enum.Parse<WebhookDeliveryState>(state), Attempts = attempts,
            NextAttemptAt = Utc(next_attempt_at), LastStatusCode = last_status_code, LastError = last_error, DeliveredAt = Utc(delivered_at),
        };
    }

    private const string DeliveryColumns = "id, endpoint_id, event_id, event_type, payload, state, attempts, next_attempt_at, last_status_code, last_error, delivered_at";

    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(DateTimeOffset now, int max, TimeSpan lease, CancellationToken ct = default)
    {
        IReadOnlyList<WebhookDelivery> claimed = [];
        await InTransactionAsync(async (c, tx) =>
        {
            // skip locked: parallel dispatchers (several instances) take disjoint rows; the lease keeps them apart after commit.
            var rows = await c.QueryAsync<DeliveryRow>($"""
                update webhook_outbox set next_attempt_at = @until
                where id in (select id from webhook_outbox where state = 'Pending' and next_attempt_at <= @now order by next_attempt_at limit @max for update skip locked)
                returning {DeliveryColumns}
                """, new { now = now.UtcDateTime, until = (now + lease).UtcDateTime, max }, tx);
            claimed = rows.Select(r => r.ToRecord()).ToList();
        }, ct);
        return claimed;
    }

    public Task RecordAttemptAsync(WebhookAttempt a, WebhookDeliveryState state, DateTimeOffset? nextAttemptAt, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("insert into webhook_attempts(delivery_id, attempt, at, status_code, error, duration_ms) values (@DeliveryId, @Attempt, @At, @StatusCode, @Error, @Ms)",
                new { a.DeliveryId, a.Attempt, At = a.At.UtcDateTime, a.StatusCode, a.Error, Ms = a.Duration.TotalMilliseconds }, tx);
            await c.ExecuteAsync("""
                update webhook_outbox set state = @State, attempts = @Attempt, last_status_code = @StatusCode, last_error = @Error,
                    next_attempt_at = coalesce(@Next, next_attempt_at), delivered_at = case when @State = 'Delivered' then @At else delivered_at end
                where id = @DeliveryId
                """, new { a.DeliveryId, a.Attempt, a.StatusCode, a.Error, State = state.ToString(), Next = nextAttemptAt?.UtcDateTime, At = a.At.UtcDateTime }, tx);
        }, ct);

    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(Guid endpointId, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        return (await conn.QueryAsync<DeliveryRow>($"select {DeliveryColumns} from webhook_outbox where endpoint_id = @endpointId order by created_at, id", new { endpointId })).Select(r => r.ToRecord()).ToList();
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(Guid deliveryId, CancellationToken ct = default)
    {
        await using var conn = await Db.ConnectAsync(ct);
        var rows = await conn.QueryAsync<(Guid DeliveryId, int Attempt, DateTime At, int? StatusCode, string? Error, double Ms)>(
            "select delivery_id, attempt, at, status_code, error, duration_ms from webhook_attempts where delivery_id = @deliveryId order by attempt", new { deliveryId });
        return rows.Select(r => new WebhookAttempt(r.DeliveryId, r.Attempt, Utc(r.At), r.StatusCode, r.Error, TimeSpan.FromMilliseconds(r.Ms))).ToList();
    }
}
