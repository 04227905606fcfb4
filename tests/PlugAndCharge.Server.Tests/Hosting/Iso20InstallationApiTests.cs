using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Vehicles;
using PlugAndCharge.Exi;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// ISO 15118-20 through the API: a CSMS posts a car-made -20 CertificateInstallationReq to POST /v1/ccp/signedContractData
/// over mutual TLS; the car checks the CPS signature up to its V2G root, decrypts its key and matches it to the
/// certificate. A P-521 car gets ECDHCurve SECP521; an Ed448 car signs with Ed448 and gets X448.
/// </summary>
public sealed class Iso20InstallationApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static int _cars;

    [Theory]
    [InlineData(false, "SECP521")]
    [InlineData(true, "X448")]
    public async Task A_csms_gets_a_20_installation_response_the_car_accepts(bool ed448, string curve)
    {
        var contracts = f.App.Services.GetRequiredService<ContractServices>();
        var v2g = await RootAsync(contracts, "iso20-v2g-root", RootType.V2G, null, null);
        await RootAsync(contracts, "iso20-mo-root", RootType.MO, null, null);
        await RootAsync(contracts, "iso20-oem-root", RootType.OEM, "oem-20", ["WMT"]);
        using var car = await VehicleSimulator.CreateAsync(f.Ca, "iso20-oem-subca2", $"WMT{Interlocked.Increment(ref _cars):D14}", [v2g], ed448);
        await contracts.Vehicles.AddAsync("oem-20", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
        var contract = await contracts.Contracts.BindAsync(new ContractOwner("emsp-20", ["DE2TT"]), new ContractBinding { Pcid = car.Pcid }, "test");

        using (var admin = f.Client(f.AdminCertificate))
            await admin.PostAsJsonAsync("/v1/participants", new { id = "cpo-20", role = "Cpo", identities = new[] { "DEC20" } }); // 409 on the second run: fine
        using var csms = f.Client(await f.IssueClientCertificateAsync("cpo-20"));
        var response = await csms.PostAsJsonAsync("/v1/ccp/signedContractData", new
        {
            certificateInstallationReq = Convert.ToBase64String(car.BuildIso20InstallationRequest()), xsdMsgDefNamespace = IsoStandard.Iso15118_20.Namespace(),
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messageDef = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("CCPResponse").GetProperty("emaidContent")[0].GetProperty("messageDef");
        var exi = Convert.FromBase64String(messageDef.GetProperty("certificateInstallationRes").GetString()!);
        var (installed, remaining) = car.AcceptIso20Response(exi);
        using (installed)
        {
            Assert.Equal(contract.Emaid, installed.Emaid);
            Assert.Equal(0, remaining);
        }
        Assert.Equal(curve, ExiSchema.Iso20.Decode(exi).Descendant("ECDHCurve")!.Text);
    }

    /// <summary>Puts a development root in the pool (once: the theory's cases share the service).</summary>
    private async Task<Org.BouncyCastle.X509.X509Certificate> RootAsync(ContractServices contracts, string id, RootType type, string? owner, string[]? wmis)
    {
        var cert = (await f.Ca.Authorities.GetAsync(id)).Certificate;
        try { await contracts.Roots.AddAsync(cert.GetEncoded(), type, owner, wmis, "test"); }
        catch (ContractException e) when (e.Error == ContractError.AlreadyExists) { }
        return cert;
    }
}
