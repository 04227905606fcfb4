namespace PlugAndCharge.Contracts.Webhooks;

/// <summary>OPCP webhook event types this hub emits to OEMs (webhook.payload.v1.json).</summary>
public static class WebhookEvents
{
    public const string ContractCreated = "mo.contract.created.sent.to.oem";
    public const string ContractUpdated = "mo.contract.updated.sent.to.oem";
    public const string ContractDeleted = "mo.contract.deleted.sent.to.oem";

    public static readonly IReadOnlyList<string> All = [ContractCreated, ContractUpdated, ContractDeleted];
}

public enum WebhookEndpointStatus { Enabled, Disabled }

/// <summary>An OEM's receiver (OPCP webhooks.v1.json <c>EndpointResponse</c>). The HMAC secret is kept wrapped at rest.</summary>
public sealed record WebhookEndpoint
{
    public required Guid Id { get; init; }
    public required string OwnerId { get; init; }
    public required Uri Url { get; init; }
    public required IReadOnlyList<string> EnabledEvents { get; init; }
    /// <summary>The HMAC-SHA256 key, wrapped by the contract key protector (never logged, never returned after creation).</summary>
    public required byte[] WrappedSecret { get; init; }
    public string? Description { get; init; }
    public WebhookEndpointStatus Status { get; init; } = WebhookEndpointStatus.Enabled;
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A contract event about a vehicle: the store turns it, in the same transaction as the change, into one outbox
/// delivery per enabled endpoint of the OEM that owns the PCID.
/// </summary>
public sealed record WebhookEvent(Guid EventId, string EventType, string Pcid, string Payload, DateTimeOffset At);

public enum WebhookDeliveryState { Pending, Delivered, Failed }

/// <summary>One event to one endpoint, with its attempts so far.</summary>
public sealed record WebhookDelivery
{
    public required Guid Id { get; init; }
    public required Guid EndpointId { get; init; }
    public required Guid EventId { get; init; }
    public required string EventType { get; init; }
    public required string Payload { get; init; }
    public WebhookDeliveryState State { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}

/// <summary>The record of one HTTP attempt.</summary>
public sealed record WebhookAttempt(Guid DeliveryId, int Attempt, DateTimeOffset At, int? StatusCode, string? Error, TimeSpan Duration);
