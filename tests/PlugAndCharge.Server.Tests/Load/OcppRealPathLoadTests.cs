using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Server.Tests.Load;

/// <summary>
/// OCPP load on the real path: the whole service (PostgreSQL, contract registry, CPS signing) behind /ocpp, many
/// ocpp-rpc stations (client/load.js) sending Get15118EVCertificate with real car-signed CertificateInstallationReqs
/// (decode, verify, contract lookup, key encryption, signing, encode) and Authorize with real contract chains (chain
/// validation, revocation, contract state) at fixed rates. By default a small smoke run; the measured run is
/// <c>PNC_OCPP_LOAD_STATIONS=1000 PNC_OCPP_LOAD_SECONDS=10 PNC_OCPP_LOAD_AUTHORIZE_RATE=500 PNC_OCPP_LOAD_EV_RATE=200
/// dotnet test -c Release tests/PlugAndCharge.Server.Tests --filter FullyQualifiedName~OcppRealPathLoad</c>.
/// </summary>
public sealed class OcppRealPathLoadTests(ServiceFixture f, ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    private const string Password = "load-test-password-0001";
    private const int Vehicles = 8;

    [Fact]
    public async Task Stations_install_contracts_and_authorize_through_the_whole_service_at_fixed_rates()
    {
        var stations = NodeLoad.Setting("PNC_OCPP_LOAD_STATIONS", 20);
        var seconds = NodeLoad.Setting("PNC_OCPP_LOAD_SECONDS", 2);
        var authorizeRate = NodeLoad.Setting("PNC_OCPP_LOAD_AUTHORIZE_RATE", 40);
        var evRate = NodeLoad.Setting("PNC_OCPP_LOAD_EV_RATE", 20);

        // Cars with provisioning certificates in the pool and a default contract each; one installation each up front
        // gives the contract chain the Authorize phase presents.
        var contracts = ContractServices.Of(f.App.Services);
        var v2g = (await f.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate;
        await contracts.Roots.AddAsync(v2g.GetEncoded(), RootType.V2G, null, null, "test");
        await contracts.Roots.AddAsync((await f.Ca.Authorities.GetAsync("iso2-mo-root")).Certificate.GetEncoded(), RootType.MO, null, null, "test");
        await contracts.Roots.AddAsync((await f.Ca.Authorities.GetAsync("iso2-oem-root")).Certificate.GetEncoded(), RootType.OEM, "oem-load", ["WLD"], "test");
        var installs = new List<object>();
        var authorizations = new List<object>();
        for (var i = 0; i < Vehicles; i++)
        {
            using var car = await VehicleSimulator.CreateAsync(f.Ca, "iso2-oem-subca2", $"WLD{i:D14}", [v2g]);
            await contracts.Vehicles.AddAsync("oem-load", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
            await contracts.Contracts.BindAsync(new ContractOwner("emsp-load", ["DELOD"]), new ContractBinding { Pcid = car.Pcid, MakeDefault = true }, "test");
            var request = car.BuildInstallationRequest();
            using var installed = car.AcceptIso2Response((await contracts.AnswerAsync(request, "urn:iso:15118:2:2013:MsgDef")).Response);
            installs.Add(new { iso15118SchemaVersion = "urn:iso:15118:2:2013:MsgDef", action = "Install", exiRequest = Convert.ToBase64String(request) });
            var chain = string.Concat(new[] { installed.Certificate }.Concat(installed.SubCertificates).Select(d => PemEncoding.WriteString("CERTIFICATE", d) + "\n"));
            authorizations.Add(new { idToken = new { idToken = installed.Emaid, type = "eMAID" }, certificate = chain });
        }

        var store = f.App.Services.GetRequiredService<IStationStore>();
        // Keyed records, as the service makes for the passwords it generates (one password for all: only logins are measured).
        var passwords = f.App.Services.GetRequiredService<StationPasswords>();
        var ids = new List<string>();
        for (var i = 0; i < stations; i++)
        {
            var id = $"RL-{i:D5}-{Guid.NewGuid():N}"[..20];
            await store.SaveAsync(new StationRecord
            {
                StationId = id, CpoId = "cpo-load", CpoOrganization = "Load CPO", SecurityProfile = SecurityProfile.TlsWithBasicAuth,
                PasswordHash = passwords.RecordOfGenerated(id, Password), PasswordChosenBy = StationPasswordOrigin.Service, RegisteredAt = DateTimeOffset.UtcNow,
            });
            ids.Add(id);
        }

        var config = new
        {
            endpoint = "wss" + f.HttpsUrl[5..] + "/ocpp", ca = f.ParticipantCa.ExportCertificatePem(), password = Password, protocol = "ocpp2.0.1", ids, connectConcurrency = 50,
            phases = new object[]
            {
                new { name = "warm-up", method = "Heartbeat", @params = new { }, rate = Math.Min(200, stations), seconds = 1 },
                // Warm the paths measured below (JIT tiers, database connection pool) before measuring them.
                new { name = "warm-up Authorize", method = "Authorize", paramsList = authorizations, rate = Math.Max(1, authorizeRate / 2), seconds = 2 },
                new { name = "warm-up Get15118EVCertificate", method = "Get15118EVCertificate", paramsList = installs, rate = Math.Max(1, evRate / 2), seconds = 2 },
                new { name = "Authorize", method = "Authorize", paramsList = authorizations, rate = authorizeRate, seconds, expect = new[] { new[] { "idTokenInfo.status", "Accepted" }, ["certificateStatus", "Accepted"] } },
                new { name = "Get15118EVCertificate", method = "Get15118EVCertificate", paramsList = installs, rate = evRate, seconds, expect = new[] { new[] { "status", "Accepted" } } },
            },
        };
        var report = await NodeLoad.RunAsync(config, TimeSpan.FromSeconds(120 + 3 * seconds + stations / 10), output);
        NodeLoad.AssertClean(report, stations);
    }
}
