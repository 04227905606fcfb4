using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PlugAndCharge.Contracts.Contracts;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts.Webhooks;
using PlugAndCharge.Core.Outbound;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Contracts.Tests.Webhooks;

/// <summary>A clock the test moves by hand (retry back-off without waiting).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A loopback HTTP receiver that records requests and answers with scripted status codes.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    public Uri Url { get; }
    public ConcurrentQueue<(string Body, string? Signature, string? HubjectSignature)> Received { get; } = new();
    public ConcurrentQueue<int> Script { get; } = new();
    public ConcurrentQueue<string?> EventIds { get; } = new();

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/hooks/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                Received.Enqueue((await reader.ReadToEndAsync(), ctx.Request.Headers["payload-signature"], ctx.Request.Headers["X-Hubject-Signature"]));
                EventIds.Enqueue(ctx.Request.Headers["X-Event-Id"]);
                ctx.Response.StatusCode = Script.TryDequeue(out var code) ? code : 200;
                ctx.Response.Close();
            }
        });
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}

public class WebhookTests
{
    [Fact]
    public async Task Contract_events_reach_the_OEM_signed_with_HMAC_SHA256_and_failures_are_retried_with_back_off()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var world = await ContractWorld.CreateAsync(PlugAndCharge.Pki.CertificateAuthorityServices.InMemory(), ca => ContractServices.InMemory(ca, ContractWorld.Options(), clock));
        using var receiver = new WebhookReceiver();
        var created = await world.Services.Webhooks.CreateAsync(ContractWorld.Oem, receiver.Url, null, "test hooks", "oem");
        using var http = new HttpClient();
        var options = new WebhookDispatchOptions { FirstRetryDelay = TimeSpan.FromSeconds(10), MaxAttempts = 3 };
        var dispatcher = new WebhookDispatcher(world.Services.WebhookStore, world.Services.Webhooks, http, options, clock);

        receiver.Script.Enqueue(500); // the first delivery fails
        var (car, contract) = await world.VehicleWithContractAsync();
        Assert.Equal(1, await dispatcher.RunOnceAsync());
        var delivery = (await world.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id)).Single();
        Assert.Equal(WebhookDeliveryState.Pending, delivery.State);
        Assert.Equal(500, delivery.LastStatusCode);
        Assert.Equal(0, await dispatcher.RunOnceAsync()); // not due yet: back-off

        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(1, await dispatcher.RunOnceAsync());
        delivery = (await world.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id)).Single();
        Assert.Equal(WebhookDeliveryState.Delivered, delivery.State);
        Assert.Equal(2, (await world.Services.WebhookStore.ListAttemptsAsync(delivery.Id)).Count);

        Assert.Equal(2, receiver.Received.Count);
        var (body, signature, hubject) = receiver.Received.Last();
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.ASCII.GetBytes(created.Secret), Encoding.UTF8.GetBytes(body)));
        Assert.Equal(expected, signature);
        Assert.Equal("sha256=" + expected, hubject);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(WebhookEvents.ContractCreated, json.GetProperty("eventType").GetString());
        Assert.Equal(contract.Emaid, json.GetProperty("payload").GetProperty("emaid").GetString());
        Assert.Equal(car.Pcid, json.GetProperty("payload").GetProperty("pcid").GetString());

        // Terminating the contract sends "deleted"; a receiver that keeps failing ends as Failed after MaxAttempts.
        await world.Services.Contracts.TerminateAsync(ContractWorld.Emsp, contract.Emaid, "end", "test");
        for (var i = 0; i < 3; i++) receiver.Script.Enqueue(503);
        for (var i = 0; i < 3; i++) { await dispatcher.RunOnceAsync(); clock.Advance(TimeSpan.FromMinutes(5)); }
        var failed = (await world.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id)).Single(d => d.EventType == WebhookEvents.ContractDeleted);
        Assert.Equal(WebhookDeliveryState.Failed, failed.State);
        Assert.Equal(3, failed.Attempts);
    }

    [Fact]
    public async Task The_production_client_retries_a_transient_failure_at_once_with_the_same_event_id_within_one_attempt()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var world = await ContractWorld.CreateAsync(PlugAndCharge.Pki.CertificateAuthorityServices.InMemory(), ca => ContractServices.InMemory(ca, ContractWorld.Options(), clock));
        using var receiver = new WebhookReceiver();
        var created = await world.Services.Webhooks.CreateAsync(ContractWorld.Oem, receiver.Url, null, "test hooks", "oem");
        var options = new WebhookDispatchOptions { ImmediateRetryDelay = TimeSpan.FromMilliseconds(10) };
        var services = new ServiceCollection();
        services.AddWebhookHttpClient(options, new OutboundNetworkPolicy(["127.0.0.0/8"])); // the receiver is on loopback
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookHttp.ClientName);
        var dispatcher = new WebhookDispatcher(world.Services.WebhookStore, world.Services.Webhooks, http, options, clock);

        receiver.Script.Enqueue(503);
        await world.VehicleWithContractAsync();
        Assert.Equal(1, await dispatcher.RunOnceAsync());
        var delivery = (await world.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id)).Single();
        Assert.Equal(WebhookDeliveryState.Delivered, delivery.State);
        Assert.Single(await world.Services.WebhookStore.ListAttemptsAsync(delivery.Id));
        Assert.Equal(2, receiver.EventIds.Count);
        Assert.Single(receiver.EventIds.Distinct());
        Assert.False(string.IsNullOrEmpty(receiver.EventIds.First()));

        // A receiver at an internal address that is not allow-listed is never retried: the address stays refused.
        var services2 = new ServiceCollection();
        services2.AddWebhookHttpClient(options, OutboundNetworkPolicy.Default);
        await using var strict = services2.BuildServiceProvider();
        var refusing = new WebhookDispatcher(world.Services.WebhookStore, world.Services.Webhooks,
            strict.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookHttp.ClientName), options, clock);
        await world.VehicleWithContractAsync();
        Assert.Equal(1, await refusing.RunOnceAsync());
        var refused = (await world.Services.Webhooks.DeliveriesAsync(created.Endpoint.Id)).Single(d => d.Id != delivery.Id);
        Assert.Equal(WebhookDispatcher.DeliveryErrors.AddressNotAllowed, refused.LastError);
        Assert.Equal(2, receiver.EventIds.Count);
    }
}
