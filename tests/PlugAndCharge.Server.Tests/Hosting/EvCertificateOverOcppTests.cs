using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using PlugAndCharge.Server.Tests.Security;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// OCPP 2.1 Get15118EVCertificate for an ISO 15118-20 car with three contracts, from an ocpp-rpc station over the
/// host's WebSocket: the station's maximumContractCertificateChains and prioritizedEMAIDs reach the installation (they
/// differ from the car's EXI on purpose), and RemainingContractCertificateChains comes back as remainingContracts.
/// </summary>
public sealed class EvCertificateOverOcppTests(ContractApiFixture w) : IClassFixture<ContractApiFixture>
{
    private const string Iso20 = "urn:iso:std:iso:15118:-20:CommonMessages";

    [Fact]
    public async Task The_stations_2_1_fields_reach_the_20_installation_and_remainingContracts_comes_back()
    {
        var contracts = ContractServices.Of(w.F.App.Services);
        var v2g = (await w.F.Ca.Authorities.GetAsync("iso20-v2g-root")).Certificate;
        foreach (var (id, type, wmis) in new[] { ("iso20-v2g-root", RootType.V2G, (string[]?)null), ("iso20-mo-root", RootType.MO, null), ("iso20-oem-root", RootType.OEM, ["WMT"]) })
        {
            try { await contracts.Roots.AddAsync((await w.F.Ca.Authorities.GetAsync(id)).Certificate.GetEncoded(), type, type == RootType.OEM ? "oem-a" : null, wmis, "test"); }
            catch (ContractException e) when (e.Error == ContractError.AlreadyExists) { }
        }
        using var car = await VehicleSimulator.CreateAsync(w.F.Ca, "iso20-oem-subca2", "WMT00000000000021", [v2g]);
        await contracts.Vehicles.AddAsync("oem-a", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
        var owner = new ContractOwner("emsp-a", ["DE8AA"]);
        var first = await contracts.Contracts.BindAsync(owner, new ContractBinding { Pcid = car.Pcid }, "test");
        await contracts.Contracts.BindAsync(owner, new ContractBinding { Pcid = car.Pcid }, "test");
        var third = await contracts.Contracts.BindAsync(owner, new ContractBinding { Pcid = car.Pcid }, "test");

        // The car's own request asks for one chain and prioritizes nothing; the station asks for two, the third contract first.
        var answer = await ContractAttack.GetEvCertificateAsync(w, "ocpp2.1", new
        {
            iso15118SchemaVersion = Iso20, action = "Install", exiRequest = Convert.ToBase64String(car.BuildIso20InstallationRequest(1)),
            maximumContractCertificateChains = 2, prioritizedEMAIDs = new[] { third.Emaid },
        });
        Assert.Equal("Accepted", answer.GetProperty("status").GetString());
        Assert.Equal(1, answer.GetProperty("remainingContracts").GetInt32());
        var (installed, remaining) = car.AcceptIso20Response(Convert.FromBase64String(answer.GetProperty("exiResponse").GetString()!));
        using (installed)
        {
            Assert.Equal(third.Emaid, installed.Emaid);
            Assert.NotEqual(first.Emaid, installed.Emaid);
            Assert.Equal(1, remaining);
        }

        // Without the station's fields the car's own request decides: one chain, the default first, nothing remaining.
        using var other = await VehicleSimulator.CreateAsync(w.F.Ca, "iso20-oem-subca2", "WMT00000000000022", [v2g]);
        await contracts.Vehicles.AddAsync("oem-a", new ProvisioningCertificateUpload(other.ProvisioningCertificate, other.ProvisioningSubCas[0], other.ProvisioningSubCas[1]), "test");
        var only = await contracts.Contracts.BindAsync(owner, new ContractBinding { Pcid = other.Pcid }, "test");
        await contracts.Contracts.BindAsync(owner, new ContractBinding { Pcid = other.Pcid }, "test");
        var plain = await ContractAttack.GetEvCertificateAsync(w, "ocpp2.1", new
        {
            iso15118SchemaVersion = Iso20, action = "Install", exiRequest = Convert.ToBase64String(other.BuildIso20InstallationRequest(1)),
        });
        Assert.Equal("Accepted", plain.GetProperty("status").GetString());
        Assert.Equal(0, plain.GetProperty("remainingContracts").GetInt32());
        var (delivered, _) = other.AcceptIso20Response(Convert.FromBase64String(plain.GetProperty("exiResponse").GetString()!));
        using (delivered) Assert.Equal(only.Emaid, delivered.Emaid);
    }

    /// <summary>A -20 request the database could not serve is refused in -20's own form (not an ISO 15118-2 message).</summary>
    [Fact]
    public async Task A_refused_20_request_gets_a_signed_20_FAILED_answer()
    {
        using var car = await VehicleSimulator.CreateAsync(w.F.Ca, "iso20-oem-subca2", "WMT00000000000023", [(await w.F.Ca.Authorities.GetAsync("iso20-v2g-root")).Certificate]);
        var service = w.F.App.Services.GetRequiredService<PlugAndCharge.Ocpp.EvCertificates.IEvCertificateService>();
        var refused = await service.RefuseAsync(new PlugAndCharge.Ocpp.EvCertificates.EvCertificateRequest("CS-ANY", "cpo-a", Iso20,
            PlugAndCharge.Ocpp.EvCertificates.EvCertificateAction.Install, Convert.ToBase64String(car.BuildIso20InstallationRequest()), 1, null), "DatabaseUnavailable");
        Assert.Equal("DatabaseUnavailable", refused.ReasonCode);
        var res = ExiSchema.Iso20.Decode(Convert.FromBase64String(refused.ExiResponse));
        Assert.Equal("CertificateInstallationRes", res.Name.LocalName);
        Assert.Equal("FAILED", res.Descendant("ResponseCode")!.Text);
        Assert.NotNull(res.Descendant("Signature"));
    }
}
