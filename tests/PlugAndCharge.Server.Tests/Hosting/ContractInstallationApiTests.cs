using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Exi;
using PlugAndCharge.Tests;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// A CSMS calls POST /v1/ccp/signedContractData over mutual TLS with a car-made CertificateInstallationReq; the car
/// accepts the answer (CPS signature to its V2G root, decrypted contract key matching the certificate). An eMSP then
/// looks its contract up, and may not look up another provider's. The same for a car with EVerest's provisioning key and
/// OEM chain, and for ISO 15118-20 cars of both key families.
/// </summary>
public sealed class ContractInstallationApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_csms_gets_a_signed_installation_response_the_car_accepts()
    {
        var contracts = Contracts;
        var v2g = await RootAsync("iso2-v2g-root", RootType.V2G, null, null);
        await RootAsync("iso2-mo-root", RootType.MO, null, null);
        await RootAsync("iso2-oem-root", RootType.OEM, "oem-1", ["WMZ"]);
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

    /// <summary>
    /// The car holds EVerest's OEM provisioning key (tests/vectors/everest_aux_pki). Its OEM (openssl with EVerest's OEM
    /// Sub-CA 2 key) certifies it with a PCID as CN, under EVerest's OEM root, which the OEM registers in our pool.
    /// </summary>
    [Fact]
    public async Task A_car_with_EVerests_provisioning_key_and_OEM_chain_installs_through_the_API()
    {
        var contracts = Contracts;
        var pki = TestPaths.Vector("everest_aux_pki");
        var dir = OpenSsl.TempDir();
        try
        {
            const string pcid = "WMV00000000000017";
            var ext = Path.Combine(dir, "ext.cnf");
            File.WriteAllText(ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
            Run("req", "-new", "-key", $"{pki}/client/oem/OEM_LEAF.key", "-passin", "pass:123456", "-subj", $"/CN={pcid}/O=EVerest/C=DE/DC=OEM", "-out", $"{dir}/car.csr");
            Run("x509", "-req", "-in", $"{dir}/car.csr", "-CA", $"{pki}/ca/oem/OEM_SUB_CA2.pem", "-CAkey", $"{pki}/client/oem/OEM_SUB_CA2.key", "-passin", "pass:123456",
                "-CAserial", $"{dir}/ca.srl", "-CAcreateserial", "-days", "365", "-sha256", "-extfile", ext, "-outform", "DER", "-out", $"{dir}/car.der");
            Run("pkcs8", "-topk8", "-nocrypt", "-in", $"{pki}/client/oem/OEM_LEAF.key", "-passin", "pass:123456", "-out", $"{dir}/car.p8");
            byte[] Der(string pem) => System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(pem)).RawData;

            var v2g = await RootAsync("iso2-v2g-root", RootType.V2G, null, null);
            await RootAsync("iso2-mo-root", RootType.MO, null, null);
            await AddRootAsync(Der($"{pki}/ca/oem/OEM_ROOT_CA.pem"), RootType.OEM, "oem-everest", ["WMV"]);
            var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(File.ReadAllText($"{dir}/car.p8"));
            using var car = new VehicleSimulator(key, File.ReadAllBytes($"{dir}/car.der"), [Der($"{pki}/ca/oem/OEM_SUB_CA2.pem"), Der($"{pki}/ca/oem/OEM_SUB_CA1.pem")], [v2g]);
            await contracts.Vehicles.AddAsync("oem-everest", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "test");
            var contract = await contracts.Contracts.BindAsync(new ContractOwner("emsp-ccp", ["DE1CC"]), new ContractBinding { Pcid = pcid, ProviderPrefix = "DE1CC" }, "test");

            using (var admin = f.Client(f.AdminCertificate))
                await admin.PostAsJsonAsync("/v1/participants", new { id = "cpo-everest", role = "Cpo", identities = new[] { "DEC02" } });
            using var csms = f.Client(await f.IssueClientCertificateAsync("cpo-everest"));
            var response = await csms.PostAsJsonAsync("/v1/ccp/signedContractData", new
            {
                certificateInstallationReq = Convert.ToBase64String(car.BuildInstallationRequest()), xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef",
            });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var messageDef = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("CCPResponse").GetProperty("emaidContent")[0].GetProperty("messageDef");
            // The car: CPS signature up to its V2G root, every reference, decrypted key matching the contract certificate.
            using var installed = car.AcceptIso2Response(Convert.FromBase64String(messageDef.GetProperty("certificateInstallationRes").GetString()!));
            Assert.Equal(contract.Emaid, installed.Emaid);
        }
        finally { Directory.Delete(dir, true); }

        static void Run(params string[] args)
        {
            var (code, output) = OpenSsl.Run(args);
            Assert.True(code == 0, $"openssl {args[0]}: {output}");
        }
    }

    private static int _cars;

    /// <summary>
    /// ISO 15118-20 the same way: a P-521 car gets ECDHCurve SECP521; an Ed448 car signs with Ed448 and gets X448.
    /// </summary>
    [Theory]
    [InlineData(false, "SECP521")]
    [InlineData(true, "X448")]
    public async Task A_csms_gets_a_20_installation_response_the_car_accepts(bool ed448, string curve)
    {
        var contracts = Contracts;
        var v2g = await RootAsync("iso20-v2g-root", RootType.V2G, null, null);
        await RootAsync("iso20-mo-root", RootType.MO, null, null);
        await RootAsync("iso20-oem-root", RootType.OEM, "oem-20", ["WMT"]);
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

    private ContractServices Contracts => ContractServices.Of(f.App.Services);

    /// <summary>Puts one of the development roots in the pool.</summary>
    private async Task<Org.BouncyCastle.X509.X509Certificate> RootAsync(string id, RootType type, string? owner, string[]? wmis)
    {
        var cert = (await f.Ca.Authorities.GetAsync(id)).Certificate;
        await AddRootAsync(cert.GetEncoded(), type, owner, wmis);
        return cert;
    }

    /// <summary>Adds a root once: the tests of the class share one service.</summary>
    private async Task AddRootAsync(byte[] der, RootType type, string? owner, string[]? wmis)
    {
        try { await Contracts.Roots.AddAsync(der, type, owner, wmis, "test"); }
        catch (ContractException e) when (e.Error == ContractError.AlreadyExists) { }
    }
}
