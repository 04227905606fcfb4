using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.ContractChecks;
using PlugAndCharge.Ocpi.Endpoints;
using PlugAndCharge.Ocpi.Parties;

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

    public static async Task<HubHost> StartAsync(Action<OcpiHubOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var contracts = new InMemoryContractStatusSource();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("PNC_TEST_LOG") is "1") builder.Logging.AddSimpleConsole();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<IContractStatusSource>(contracts);
        services?.Invoke(builder.Services);
        builder.Services.AddOcpiHub(o =>
        {
            o.CountryCode = "DE";
            o.PartyId = "HUB";
            // The production default (5 s): a loaded CI box can take most of a second for a first TLS handshake and
            // JIT; the tests about timeouts set their own short one.
            o.PartyTimeout = TimeSpan.FromSeconds(5);
            o.LivenessInterval = TimeSpan.Zero;
            o.MaxPageSize = 50;
            // The test parties run on loopback: allow-listed here, refused by the production default.
            o.Outbound = new PlugAndCharge.Core.Outbound.OutboundNetworkPolicy(["127.0.0.0/8", "::1"]);
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapOcpiEndpoints();
        app.MapOcpiOperatorEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HubHost { App = app, BaseUrl = address.TrimEnd('/'), Contracts = contracts };
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
