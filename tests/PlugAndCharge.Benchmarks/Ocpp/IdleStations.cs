using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpp;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Server.Hosting;
using PlugAndCharge.TestSupport.Ocpp;

namespace PlugAndCharge.Benchmarks.Ocpp;

/// <summary>
/// What an idle connected station costs the OCPP transport: a child process hosts the OCPP module on Kestrel with TLS
/// (in-memory stations, profile 2 with service-generated passwords under the keyed hash, so only the connection is measured), this process opens N
/// TLS WebSockets with Basic auth, boots each, and reads the child's RSS, its managed heap after a full GC, and its CPU
/// over a rest period (after 10 s of settling). The difference to the empty server, divided by N, is the cost per station.
/// Usage: ocpp-idle [stations=2000] [restSeconds=30]
/// </summary>
public static class IdleStations
{
    private const string Password = "idle-station-password-0001";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["host", ..]) return await HostAsync();
        var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        var rest = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;

        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (!self.EndsWith("PlugAndCharge.Benchmarks", StringComparison.Ordinal)) psi.ArgumentList.Add(typeof(IdleStations).Assembly.Location);
        psi.ArgumentList.Add("ocpp-idle");
        psi.ArgumentList.Add("host");
        using var host = Process.Start(psi)!;
        var endpoint = await host.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the host did not start");
        string Ask(string command)
        {
            host.StandardInput.WriteLine(command);
            return host.StandardOutput.ReadLine()!;
        }

        Ask("register " + n.ToString(CultureInfo.InvariantCulture));
        var empty = Measure(Ask, host.Id);
        Console.WriteLine($"server, no stations:   {empty}");

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        });
        var sockets = new ClientWebSocket[n];
        var connect = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(64);
        var boot = Encoding.UTF8.GetBytes("""[2,"1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"Idle","vendorName":"PNC"}}]""");
        await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var ws = new ClientWebSocket();
                ws.Options.AddSubProtocol("ocpp2.0.1");
                ws.Options.KeepAliveInterval = TimeSpan.Zero;
                ws.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"IDLE-{i}:{Password}")));
                await ws.ConnectAsync(new Uri($"{endpoint}/IDLE-{i}"), invoker, CancellationToken.None);
                await ws.SendAsync(boot, WebSocketMessageType.Text, true, CancellationToken.None);
                var answer = new byte[1024];
                var r = await ws.ReceiveAsync(answer, CancellationToken.None);
                if (!Encoding.UTF8.GetString(answer, 0, r.Count).Contains("Accepted", StringComparison.Ordinal))
                    Console.WriteLine($"IDLE-{i}: {Encoding.UTF8.GetString(answer, 0, r.Count)}");
                sockets[i] = ws;
            }
            finally { gate.Release(); }
        }));
        Console.WriteLine($"{n} stations connected and booted in {connect.Elapsed.TotalSeconds:0.0} s");

        // Settle first: the connect burst's GCs and the JIT's background recompilation are not rest.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var cpu0 = CpuSeconds(host.Id);
        await Task.Delay(TimeSpan.FromSeconds(rest));
        var cpu = CpuSeconds(host.Id) - cpu0;
        var full = Measure(Ask, host.Id);
        Console.WriteLine($"server, {n} stations: {full}");
        Console.WriteLine($"per station: RSS {(full.Rss - empty.Rss) / n / 1024.0:0.0} KB, managed heap {(full.Managed - empty.Managed) / n / 1024.0:0.0} KB");
        Console.WriteLine($"CPU at rest over {rest} s: {cpu / rest * 100:0.00}% of one core ({cpu * 1000 / rest / n * 1000:0.0} us/s per station)");

        foreach (var ws in sockets) ws.Abort();
        host.StandardInput.WriteLine("exit");
        await host.WaitForExitAsync();
        return 0;
    }

    private readonly record struct Memory(long Rss, long Managed)
    {
        public override string ToString() => $"RSS {Rss / 1048576.0:0.0} MB, managed heap after full GC {Managed / 1048576.0:0.0} MB";
    }

    private static Memory Measure(Func<string, string> ask, int pid)
    {
        var managed = long.Parse(ask("gc"), CultureInfo.InvariantCulture);
        return new Memory(Rss(pid), managed);
    }

    private static long Rss(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The child: the OCPP module over in-memory stores; answers "register N", "gc" and "exit" on stdin.</summary>
    private static async Task<int> HostAsync()
    {
        var store = new InMemoryPkiStore(TimeProvider.System);
        var ca = new CertificateAuthorityServices(store, store, store, new KeyProviderRegistry([]), ProfileCatalog.BuiltIn,
            new PkiOptions { PublicBaseUrl = "http://127.0.0.1:9" }, TimeProvider.System);
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        using var selfSigned = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var serverCert = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), null);

        var stations = new InMemoryStationStore();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Error);
        var released = 0;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        }).Use(next => connection =>
        {
            // As ServiceHost does: OpenSSL frees the connection's record buffers while they are empty.
            if (TlsRecordBuffers.ReleaseWhenIdle(connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream))
                Interlocked.Increment(ref released);
            return next(connection);
        })));
        builder.Services.AddPki(ca);
        builder.Services.AddSingleton<IStationStore>(stations);
        builder.Services.AddSingleton<PlugAndCharge.Ocpp.Authorization.IContractAuthorization>(new InMemoryContractAuthorization());
        builder.Services.AddSingleton<PlugAndCharge.Ocpp.EvCertificates.IEvCertificateService>(new NoEvCertificates());
        // Only the (unused) SignCertificate handler asks for participants: a store whose database is never reached.
        builder.Services.AddSingleton<PlugAndCharge.Core.Participants.IParticipantStore>(
            new PlugAndCharge.Storage.Participants.PostgresParticipantStore(Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=9")));
        var passwordSecret = RandomNumberGenerator.GetBytes(32);
        builder.Services.AddOcpp(o =>
        {
            o.StationPasswordKey = passwordSecret;
            // PNC_BENCH_KEEPALIVE=seconds: the WebSocket keep-alive ping to compare (0 = none).
            if (Environment.GetEnvironmentVariable("PNC_BENCH_KEEPALIVE") is { Length: > 0 } k) o.KeepAliveInterval = TimeSpan.FromSeconds(int.Parse(k, CultureInfo.InvariantCulture));
        });
        await using var app = builder.Build();
        app.UseWebSockets();
        app.MapOcppEndpoints();
        await app.StartAsync();
        Console.WriteLine(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("https://", "wss://") + "/ocpp");

        while (Console.ReadLine() is { } line)
        {
            if (line.StartsWith("register ", StringComparison.Ordinal))
            {
                var passwords = new StationPasswords(new StationPasswordKey(passwordSecret), TimeProvider.System);
                for (var i = 0; i < int.Parse(line[9..], CultureInfo.InvariantCulture); i++)
                    await stations.SaveAsync(new StationRecord
                    {
                        StationId = $"IDLE-{i}", CpoId = "cpo", CpoOrganization = "Idle CPO", SecurityProfile = SecurityProfile.TlsWithBasicAuth,
                        PasswordHash = passwords.RecordOfGenerated($"IDLE-{i}", Password), RegisteredAt = DateTimeOffset.UtcNow,
                    });
                Console.WriteLine("ok");
            }
            else if (line == "gc")
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Console.Error.WriteLine($"host: record buffers released on {released} connections");
                Console.WriteLine(GC.GetTotalMemory(false).ToString(CultureInfo.InvariantCulture));
            }
            else if (line == "exit") break;
        }
        await app.StopAsync();
        return 0;
    }

    /// <summary>Idle stations ask for no EV certificates.</summary>
    private sealed class NoEvCertificates : PlugAndCharge.Ocpp.EvCertificates.IEvCertificateService
    {
        public Task<PlugAndCharge.Ocpp.EvCertificates.EvCertificateResult> ProcessAsync(PlugAndCharge.Ocpp.EvCertificates.EvCertificateRequest request, CancellationToken ct = default) =>
            Task.FromResult(new PlugAndCharge.Ocpp.EvCertificates.EvCertificateResult(false, "", "NotServedHere"));
    }
}
