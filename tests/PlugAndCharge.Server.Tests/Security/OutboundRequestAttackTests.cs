using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PlugAndCharge.Core.Outbound;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 21 finding 7 (SSRF): URLs a participant supplies (OEM webhook URLs, an OCPI party's versions URL) must not make
/// the hub connect inside its network. The host runs with an outbound allow-list of 127.0.0.2/32 only; the targets are
/// loopback traps that count every TCP connection. 10.0.0.1 and 169.254.169.254 are never connected to by these tests:
/// the filter refuses them before any packet leaves.
/// </summary>
public sealed class OutboundRequestAttackTests(OutboundAttackFixture w) : IClassFixture<OutboundAttackFixture>
{
    private static async Task<JsonElement> Json(HttpResponseMessage r) => await r.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Webhooks_to_internal_addresses_are_never_connected_and_deliveries_do_not_tell_open_from_closed_ports()
    {
        using var open = LoopbackTrap.Start(IPAddress.Loopback, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 24\r\nConnection: close\r\n\r\ninternal-secret-response");
        var closedPort = LoopbackTrap.FreePort(IPAddress.Loopback);
        var targets = new[]
        {
            $"http://127.0.0.1:{open.Port}/hook", $"http://localhost:{open.Port}/hook", $"http://[::ffff:127.0.0.1]:{open.Port}/hook",
            $"http://[::1]:{open.Port}/hook", $"http://127.0.0.1:{closedPort}/hook",
        };
        var ids = new List<string>();
        foreach (var url in targets)
        {
            var created = await w.OemA.PostAsJsonAsync("/v1/webhook/endpoints", new { url, enabledEvents = new[] { "mo.contract.created.sent.to.oem" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ids.Add((await Json(created)).GetProperty("id").GetString()!);
        }

        await w.ContractForNewCarAsync();

        var errors = new List<string>();
        foreach (var id in ids)
        {
            var delivery = await w.FirstAttemptAsync(id);
            errors.Add(delivery.GetProperty("lastError").GetString() ?? "");
        }
        Assert.True(open.Connections == 0, $"the hub connected {open.Connections} times; deliveries said: {string.Join(" | ", errors)}");
        // One generic text for the open port, the name that resolves to it and the closed port: no port scanner.
        Assert.Single(errors.Distinct());
        Assert.All(errors, e => Assert.DoesNotContain("internal-secret", e, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("refused", e, StringComparison.OrdinalIgnoreCase));
        Assert.All(errors, e => Assert.DoesNotContain("127.0.0.1", e, StringComparison.Ordinal));
        Assert.Equal("address not allowed", errors[0]);
    }

    /// <summary>
    /// The filter itself, on addresses these tests must never send a packet to: the call runs with a token that is
    /// already cancelled, so if the filter let an address through, the connect would stop before sending anything
    /// (OperationCanceledException) instead of the refusal asserted here.
    /// </summary>
    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("172.16.5.4")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:a00:1::")]
    public async Task Internal_addresses_are_refused_before_any_packet(string address)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var policy = new OutboundNetworkPolicy([OutboundAttackFixture.Allowed + "/32"]);
        var e = await Assert.ThrowsAsync<OutboundAddressRefusedException>(() => OutboundHttp.ConnectAsync(policy, new DnsEndPoint(address, 80), cancelled.Token).AsTask());
        Assert.StartsWith("Address not allowed", e.Message, StringComparison.Ordinal);
        Assert.True(OutboundNetworkPolicy.IsInternal(IPAddress.Parse(address)));
        // Public addresses pass; the operator's allow-list opens what it names (and only that).
        Assert.True(policy.IsAllowed(IPAddress.Parse("192.0.43.10")) && policy.IsAllowed(IPAddress.Parse("2001:4860:4860::8888")));
        Assert.True(policy.IsAllowed(OutboundAttackFixture.Allowed) && !policy.IsAllowed(IPAddress.Parse("127.0.0.3")));
        Assert.True(new OutboundNetworkPolicy(["10.0.0.0/8"]).IsAllowed(IPAddress.Parse("::ffff:10.1.2.3")));
    }

    [Fact]
    public async Task An_OCPI_party_cannot_point_the_hub_at_loopback_or_through_a_redirect()
    {
        using var inside = LoopbackTrap.Start(IPAddress.Loopback, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        using var redirectTarget = LoopbackTrap.Start(OutboundAttackFixture.Allowed, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        using var redirector = LoopbackTrap.Start(OutboundAttackFixture.Allowed,
            $"HTTP/1.1 302 Found\r\nLocation: http://{OutboundAttackFixture.Allowed}:{redirectTarget.Port}/versions\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        var answers = new List<JsonElement>();
        foreach (var url in new[] { $"http://127.0.0.1:{inside.Port}/versions", $"http://localhost:{inside.Port}/versions", $"http://{OutboundAttackFixture.Allowed}:{redirector.Port}/versions" })
            answers.Add(await w.RegisterOcpiPartyAsync(url));
        var said = string.Join(" | ", answers);
        Assert.True(inside.Connections == 0, $"the hub connected {inside.Connections} times to loopback; it answered {said}");
        Assert.Equal(1, redirector.Connections); // the allowed address is called ...
        Assert.True(redirectTarget.Connections == 0, $"the hub followed the redirect; it answered {said}"); // ... but its redirect is not followed
        // OCPI 3001 (unable to use the client's API) for each, whether the address was refused or answered nonsense.
        Assert.All(answers, a => Assert.Equal(3001, a.GetProperty("status_code").GetInt32()));
        Assert.All(answers, a => Assert.DoesNotContain("refused", a.ToString(), StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>The contract API world of <see cref="ContractApiFixture"/>, on a host whose outbound allow-list is 127.0.0.2/32.</summary>
public sealed class OutboundAttackFixture : IAsyncLifetime
{
    public static readonly IPAddress Allowed = IPAddress.Parse("127.0.0.2");
    public ContractApiFixture World { get; } = new(new ServiceFixture { OutboundAllowed = [Allowed.ToString() + "/32"] });
    public HttpClient OemA => World.OemA;
    private int _party;

    public Task InitializeAsync() => World.InitializeAsync();
    public Task DisposeAsync() => World.DisposeAsync();

    /// <summary>An OEM A car in the pool and an eMSP contract for it: the contract.created event for OEM A's webhooks.</summary>
    public async Task ContractForNewCarAsync()
    {
        var root = await World.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(World.OemRoot), rootType = "OEM" });
        Assert.True(root.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"OEM root: {root.StatusCode}");
        using var car = await World.NewCarAsync();
        (await World.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Created, (await World.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid })).StatusCode);
    }

    /// <summary>The first delivery to the endpoint once it has been attempted at least once.</summary>
    public async Task<JsonElement> FirstAttemptAsync(string endpointId)
    {
        for (var i = 0; i < 150; i++)
        {
            var list = await World.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{endpointId}/deliveries");
            var attempted = list.EnumerateArray().FirstOrDefault(d => d.GetProperty("attempts").GetInt32() > 0);
            if (attempted.ValueKind == JsonValueKind.Object) return attempted;
            await Task.Delay(100);
        }
        throw new TimeoutException($"No delivery attempt to {endpointId}.");
    }

    /// <summary>A new OCPI party (admin) that registers with token A and the given versions URL; the OCPI answer.</summary>
    public async Task<JsonElement> RegisterOcpiPartyAsync(string versionsUrl)
    {
        var pid = $"X{Interlocked.Increment(ref _party):D2}";
        var created = await World.Admin.PostAsJsonAsync("/admin/ocpi/parties", new { name = "Attacker", roles = new[] { new { role = "EMSP", countryCode = "NL", partyId = pid } } });
        created.EnsureSuccessStatusCode();
        var tokenA = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tokenA").GetString()!;
        using var hub = World.F.Client(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ocpi/2.3.0/credentials");
        request.Headers.TryAddWithoutValidation("Authorization", "Token " + Convert.ToBase64String(Encoding.UTF8.GetBytes(tokenA)));
        request.Headers.TryAddWithoutValidation("X-Request-ID", Guid.NewGuid().ToString());
        request.Headers.TryAddWithoutValidation("X-Correlation-ID", Guid.NewGuid().ToString());
        request.Content = JsonContent.Create(new
        {
            token = "attacker-token-b-" + pid, url = versionsUrl,
            roles = new[] { new { role = "EMSP", party_id = pid, country_code = "NL", business_details = new { name = "Attacker" } } },
        });
        var response = await hub.SendAsync(request);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

/// <summary>A TCP listener on a loopback address that counts connections and answers each with a fixed HTTP response.</summary>
public sealed class LoopbackTrap : IDisposable
{
    private readonly TcpListener _listener;
    private int _connections;
    public int Port { get; }
    public int Connections => Volatile.Read(ref _connections);

    private LoopbackTrap(IPAddress address, string response)
    {
        _listener = new TcpListener(address, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var bytes = Encoding.ASCII.GetBytes(response);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            var stream = client.GetStream();
                            var buffer = new byte[8192];
                            _ = await stream.ReadAsync(buffer); // the request line and headers (enough for these tests)
                            await stream.WriteAsync(bytes);
                        }
                        catch (Exception) { }
                    }
                });
            }
        });
    }

    public static LoopbackTrap Start(IPAddress address, string response) => new(address, response);

    /// <summary>A port nothing listens on.</summary>
    public static int FreePort(IPAddress address)
    {
        var l = new TcpListener(address, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose() => _listener.Stop();
}
