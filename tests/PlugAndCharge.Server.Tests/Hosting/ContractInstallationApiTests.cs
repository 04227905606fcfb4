using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Vehicles;
using PlugAndCharge.Core.Participants;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// A CSMS calls POST /v1/ccp/signedContractData over mutual TLS with a car-made CertificateInstallationReq; the car
/// accepts the answer (CPS signature to its V2G root, decrypted contract key matching the certificate). An eMSP then
/// looks its contract up, and may not look up another provider's.
/// </summary>
public sealed class ContractInstallationApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_csms_gets_a_signed_installation_response_the_car_accepts()
    {
        var contracts = f.App.Services.GetRequiredService<ContractServices>();
        async Task<Org.BouncyCastle.X509.X509Certificate> Root(string id, RootType type, string? owner, string[]? wmis)
        {
            var cert = (await f.Ca.Authorities.GetAsync(id)).Certificate;
            await contracts.Roots.AddAsync(cert.GetEncoded(), type, owner, wmis, "test");
            return cert;
        }
        var v2g = await Root("iso2-v2g-root", RootType.V2G, null, null);
        await Root("iso2-mo-root", RootType.MO, null, null);
        await Root("iso2-oem-root", RootType.OEM, "oem-1", ["WMZ"]);
        using var car = await VehicleSimulator.CreateAsync(f.Ca, "iso2-oem-subca2", "WMZ00000000000001", [v2g]);
        await contracts.Vehicles.AddAsync("oem-1", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
        var contract = await contracts.Contracts.BindAsync(new ContractOwner("emsp-ccp", ["DE1CC"]), new ContractBinding { Pcid = car.Pcid }, "test");

        using (var admin = f.Client(f.AdminCertificate))
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants", new { id = "cpo-ccp", role = "Cpo", identities = new[] { "DEC01" } })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants", new { id = "emsp-ccp", role = "Emsp", identities = new[] { "DE1CC" } })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants", new { id = "emsp-other", role = "Emsp", identities = new[] { "FR9XX" } })).StatusCode);
        }
        using var csms = f.Client(await f.IssueClientCertificateAsync("cpo-ccp"));
        var response = await csms.PostAsJsonAsync("/v1/ccp/signedContractData", new
        {
            certificateInstallationReq = Convert.ToBase64String(car.BuildInstallationRequest()), xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var messageDef = body.GetProperty("CCPResponse").GetProperty("emaidContent")[0].GetProperty("messageDef");
        Assert.Equal(contract.Emaid, messageDef.GetProperty("emaid").GetString());
        using var installed = car.AcceptIso2Response(Convert.FromBase64String(messageDef.GetProperty("certificateInstallationRes").GetString()!));
        Assert.Equal(contract.Emaid, installed.Emaid);

        // Garbage in still gets a complete, signed EXI answer with a FAILED code, never an empty body.
        var garbage = await csms.PostAsJsonAsync("/v1/ccp/signedContractData", new { certificateInstallationReq = Convert.ToBase64String(new byte[] { 0x80, 1, 2, 3 }), xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef" });
        Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);
        var failed = (await garbage.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("CCPResponse").GetProperty("emaidContent")[0].GetProperty("messageDef");
        Assert.NotEmpty(Convert.FromBase64String(failed.GetProperty("certificateInstallationRes").GetString()!));
        Assert.StartsWith("FAILED", failed.GetProperty("metaData").GetString());

        using var emsp = f.Client(await f.IssueClientCertificateAsync("emsp-ccp"));
        var own = await emsp.GetFromJsonAsync<JsonElement>($"/v1/ccp/lookupContract/{contract.Emaid}");
        Assert.Equal("Active", own.GetProperty("state").GetString());
        using var other = f.Client(await f.IssueClientCertificateAsync("emsp-other"));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync($"/v1/ccp/lookupContract/{contract.Emaid}")).StatusCode);
        // An eMSP may not ask for signed contract data as if it were a CSMS.
        Assert.Equal(HttpStatusCode.Forbidden, (await emsp.PostAsJsonAsync("/v1/ccp/signedContractData", new { certificateInstallationReq = "AA==", xsdMsgDefNamespace = "x" })).StatusCode);
    }
}
