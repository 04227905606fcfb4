using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Endpoints;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.TestSupport.Ocpi;

namespace PlugAndCharge.Ocpi.Tests.Infrastructure;

/// <summary>The hub, in process, on 127.0.0.1 with a free port: MapOcpiEndpoints plus the operator endpoints.</summary>
public sealed class HubHost : IAsyncDisposable
{
    public required WebApplication App { get; init; }
    public required string BaseUrl { get; init; }
    public string VersionsUrl => BaseUrl + "/ocpi/versions";
    public required InMemoryContractStatusSource Contracts { get; init; }
    public IServiceProvider Services => App.Services;
    public PartyAdministration Admin => Services.GetRequiredService<PartyAdministration>();

    /// <summary>
    /// Starts the hub on a free port whose URL is also its configured OCPI base URL (the hub must know its own URL
    /// before it serves); a port another process took between the probe and the bind is tried again.
    /// </summary>
    public static async Task<HubHost> StartAsync(Action<OcpiHubOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await StartOnAsync(FreePort(), configure, services); }
            catch (IOException) when (attempt < 5) { }
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task<HubHost> StartOnAsync(int port, Action<OcpiHubOptions>? configure, Action<IServiceCollection>? services)
    {
        var contracts = new InMemoryContractStatusSource();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("PNC_TEST_LOG") is "1") builder.Logging.AddSimpleConsole();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddSingleton<IContractStatusSource>(contracts);
        services?.Invoke(builder.Services);
        // The hub's ports in memory unless the test registered its own (PostgreSQL, for the instance tests).
        builder.Services.TryAddSingleton<IOcpiPartyStore, InMemoryOcpiPartyStore>();
        builder.Services.TryAddSingleton<IOcpiTokenStore, InMemoryOcpiTokenStore>();
        builder.Services.TryAddSingleton<ICommandCallbackStore, InMemoryCommandCallbackStore>();
        builder.Services.TryAddSingleton<IRoamingAgreementStore, InMemoryRoamingAgreementStore>();
        builder.Services.AddOcpiHub(o =>
        {
            o.CountryCode = "DE";
            o.PartyId = "HUB";
            // The production default (5 s): a loaded CI box can take most of a second for a first TLS handshake and
            // JIT; the tests about timeouts set their own short one.
            o.PartyTimeout = TimeSpan.FromSeconds(5);
            o.LivenessInterval = TimeSpan.Zero;
            o.MaxPageSize = 50;
            o.PublicBaseUrl = $"http://127.0.0.1:{port}/ocpi";
            // The test parties run on loopback: allow-listed here, refused by the production default.
            o.Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(["127.0.0.0/8", "::1"]);
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapOcpiEndpoints();
        app.MapOcpiOperatorEndpoints();
        try { await app.StartAsync(); }
        catch (IOException)
        {
            await app.DisposeAsync();
            throw;
        }
        return new HubHost { App = app, BaseUrl = $"http://127.0.0.1:{port}", Contracts = contracts };
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
