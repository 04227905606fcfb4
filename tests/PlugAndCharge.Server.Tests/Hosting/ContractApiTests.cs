using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;
using Xunit;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// Contract provisioning over HTTPS with mutual TLS, end to end on the real host and PostgreSQL: the provisioning
/// certificate pool (OEM), OEM roots, contracts of eMSPs (mint, list, default, terminate with revocation), CCP and CPS
/// signed data (OEM pull, eMSP-made data signed by our CPS), and OEM webhooks delivered with an HMAC-SHA256 signature.
/// </summary>
public sealed class ContractApiTests(ContractApiFixture w) : IClassFixture<ContractApiFixture>
{
    private static async Task<JsonElement> Json(HttpResponseMessage r) => await r.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>The status and that the refusal is RFC 9457 problem details (never a bare 500).</summary>
    private static async Task Problem(HttpStatusCode expected, HttpResponseMessage r)
    {
        Assert.Equal(expected, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, (await Json(r)).GetProperty("status").GetInt32());
    }

    private async Task<VehicleSimulator> RegisteredCarAsync()
    {
        await EnsureOemRootAsync();
        var car = await w.NewCarAsync();
        (await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).EnsureSuccessStatusCode();
        return car;
    }

    private async Task EnsureOemRootAsync()
    {
        var r = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM" });
        Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"OEM root: {r.StatusCode}");
    }

    [Fact]
    public async Task An_OEM_adds_its_own_OEM_root_only_for_its_WMIs()
    {
        var forOther = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM", wmis = new[] { "WMB" } });
        await Problem(HttpStatusCode.Forbidden, forOther);
        await Problem(HttpStatusCode.Forbidden, await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM", ownerId = "oem-b" }));
        await Problem(HttpStatusCode.Forbidden, await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.V2gRoot.GetEncoded()), rootType = "V2G" }));
        await Problem(HttpStatusCode.Forbidden, await w.EmspA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM" }));

        // As PEM, without ownerId or wmis: the root is the caller's, for all its WMIs (409 when another test added it first).
        var added = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = PemEncoding.WriteString("CERTIFICATE", w.OemRoot), rootType = "OEM" });
        if (added.StatusCode != HttpStatusCode.Conflict)
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
            Assert.Equal("OEM", (await Json(added)).GetProperty("RootResponse").GetProperty("rootType").GetString());
        }
        var roots = await PlugAndCharge.TestSupport.ContractServices.Of(w.F.App.Services).Roots.ListAsync(PlugAndCharge.Contracts.Pools.RootType.OEM);
        var stored = Assert.Single(roots);
        Assert.Equal("oem-a", stored.OwnerId);
        Assert.Equal(["WMA"], stored.Wmis);
    }

    [Fact]
    public async Task An_OEM_publishes_a_vehicle_reads_and_looks_it_up_other_OEMs_are_refused()
    {
        await EnsureOemRootAsync();
        using var car = await w.NewCarAsync();
        var put = await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var data = await Json(put);
        Assert.Equal(Convert.ToBase64String(car.ProvisioningCertificate), data.GetProperty("vehicleCertificate").GetString());
        Assert.Equal(Convert.ToBase64String(car.ProvisioningSubCas[1]), data.GetProperty("subCA1Certificate").GetString());
        Assert.Equal(Convert.ToBase64String(car.ProvisioningSubCas[0]), data.GetProperty("subCA2Certificate").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(car.ProvisioningCertificate)), data.GetProperty("fingerprint").GetString());
        var oemRoot = PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(w.OemRoot);
        Assert.Equal(oemRoot.SerialNumber.ToString(16), data.GetProperty("rootIssuerSerialNumber").GetString());
        Assert.Contains(":", data.GetProperty("rootAuthorityKeyIdentifier").GetString());

        var get = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/oem/provCerts/{car.Pcid.ToLowerInvariant()}");
        Assert.Equal(Convert.ToBase64String(car.ProvisioningCertificate), get.GetProperty("OEMMessage").GetProperty("vehicleCertificate").GetString());
        var lookup = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/oem/provCerts/lookupVehicle/{car.Pcid}");
        Assert.Equal(car.Pcid, lookup.GetProperty("pcid").GetString());
        Assert.Equal("oem-a", lookup.GetProperty("oemId").GetString());
        // OPCP lets the MO read the certificate (it encrypts contract keys for it); a CPO may not.
        Assert.Equal(HttpStatusCode.OK, (await w.EmspA.GetAsync($"/v1/oem/provCerts/{car.Pcid}")).StatusCode);
        Assert.False((await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/oem/provCerts/lookupVehicle/{car.Pcid}")).TryGetProperty("oemId", out _));
        await Problem(HttpStatusCode.Forbidden, await w.Cpo.GetAsync($"/v1/oem/provCerts/{car.Pcid}"));

        // Another OEM (WMI WMB) may neither read, delete nor publish vehicles of WMI WMA.
        await Problem(HttpStatusCode.Forbidden, await w.OemB.GetAsync($"/v1/oem/provCerts/{car.Pcid}"));
        await Problem(HttpStatusCode.Forbidden, await w.OemB.GetAsync($"/v1/oem/provCerts/lookupVehicle/{car.Pcid}"));
        await Problem(HttpStatusCode.Forbidden, await w.OemB.DeleteAsync($"/v1/oem/provCerts/{car.Pcid}"));
        await Problem(HttpStatusCode.Forbidden, await w.OemB.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car)));
        await Problem(HttpStatusCode.Forbidden, await w.EmspA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car)));
        // A WMB car chains to the same dev OEM root, but OEM B has registered no OEM root of its own.
        using var carB = await w.NewCarAsync("WMB");
        await Problem((HttpStatusCode)422, await w.OemB.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(carB)));

        // Bad input is a 400/404 problem, never a 500.
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new { vehicleCertificate = "not base64!", subCA1Certificate = "AAAA" }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new { vehicleCertificate = "AAAA", subCA1Certificate = "AAAA" }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new { vehicleCertificate = Convert.ToBase64String(car.ProvisioningCertificate) }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsync("/v1/oem/provCerts", new StringContent("{not json", Encoding.UTF8, "application/json")));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.GetAsync("/v1/oem/provCerts/WMA-not-a-pcid"));
        await Problem(HttpStatusCode.NotFound, await w.OemA.GetAsync("/v1/oem/provCerts/WMA99999999999999"));
        await Problem(HttpStatusCode.NotFound, await w.OemA.GetAsync("/v1/oem/provCerts/lookupVehicle/WMA99999999999999"));
    }

    [Fact]
    public async Task An_eMSP_creates_a_minted_contract_lists_it_and_terminates_it_with_its_certificate_revoked()
    {
        using var car = await RegisteredCarAsync();
        var created = await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, @default = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var contract = await Json(created);
        var emaid = contract.GetProperty("emaid").GetString()!;
        Assert.Equal($"/v1/contracts/{emaid}", created.Headers.Location?.OriginalString);
        var parsed = Emaid.Parse(emaid, IdentifierStrictness.Strict); // minted with a valid ISO 15118-1 check character
        Assert.True(parsed.CheckCharacterValid);
        Assert.Equal("DE8AA", parsed.ProviderPrefix);
        Assert.Equal(car.Pcid, contract.GetProperty("pcid").GetString());
        Assert.Equal("Active", contract.GetProperty("state").GetString());
        Assert.True(contract.GetProperty("isDefault").GetBoolean());
        var certificate = contract.GetProperty("certificate");
        var serial = certificate.GetProperty("serial").GetString()!;
        Assert.Equal("Valid", certificate.GetProperty("status").GetString());
        var pemText = certificate.GetProperty("pem").GetString()!;
        var der = Convert.FromBase64String(pemText[PemEncoding.Find(pemText).Base64Data]);
        Assert.Equal(emaid, PlugAndCharge.Contracts.Pools.CertificateFacts.CommonName(PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(der)));

        var got = await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}");
        Assert.Equal(serial, got.GetProperty("certificate").GetProperty("serial").GetString());
        var listed = (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts?pcid={car.Pcid}")).GetProperty("contracts");
        Assert.Equal(emaid, Assert.Single(listed.EnumerateArray()).GetProperty("emaid").GetString());
        Assert.Empty((await w.EmspB.GetFromJsonAsync<JsonElement>($"/v1/contracts?pcid={car.Pcid}")).GetProperty("contracts").EnumerateArray());

        // A second contract with a chosen EMAID; renewal gives a new certificate; default moves back and forth.
        var chosen = Emaid.Create("DE", "8AA", $"C{Random.Shared.Next(10_000_000, 99_999_999)}").Normalized;
        var second = await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, emaid = chosen, issueCertificate = false });
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var secondBody = await Json(second);
        Assert.False(secondBody.GetProperty("isDefault").GetBoolean());
        Assert.Equal(JsonValueKind.Null, secondBody.GetProperty("certificate").ValueKind);
        var renewed = await Json(await w.EmspA.PostAsync($"/v1/contracts/{chosen}/certificate", null));
        Assert.Equal("Valid", renewed.GetProperty("certificate").GetProperty("status").GetString());
        Assert.True((await Json(await w.EmspA.PostAsync($"/v1/contracts/{chosen}/default", null))).GetProperty("isDefault").GetBoolean());
        Assert.False((await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}")).GetProperty("isDefault").GetBoolean());
        await Problem(HttpStatusCode.Conflict, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, emaid = chosen }));

        // Another eMSP is refused on every path; a provider ID that is not the caller's is refused too.
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.GetAsync($"/v1/contracts/{emaid}"));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.DeleteAsync($"/v1/contracts/{emaid}"));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.PostAsync($"/v1/contracts/{emaid}/certificate", null));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.PostAsync($"/v1/contracts/{emaid}/default", null));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, emaid = Emaid.Create("DE", "8AA", "CZZZZZZZ1").Normalized }));
        await Problem(HttpStatusCode.Forbidden, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, providerId = "FR9BB" }));
        await Problem(HttpStatusCode.Forbidden, await w.OemA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid }));

        // Bad input: 400 / 404 problem details.
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = "short" }));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { emaid = chosen }));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, emaid = "DE8AA!" }));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PostAsync("/v1/contracts", new StringContent("""{"pcid": 5, "default": "yes"}""", Encoding.UTF8, "application/json")));
        await Problem(HttpStatusCode.NotFound, await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = "WMA00000000000999" }));
        await Problem(HttpStatusCode.NotFound, await w.EmspA.GetAsync($"/v1/contracts/{Emaid.Create("DE", "8AA", "CNOSUCH01").Normalized}"));
        await Problem(HttpStatusCode.NotFound, await w.EmspA.DeleteAsync($"/v1/contracts/{Emaid.Create("DE", "8AA", "CNOSUCH01").Normalized}"));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.GetAsync("/v1/contracts/not-an-emaid"));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.GetAsync("/v1/contracts"));

        // Termination: final state in the answer, the certificate revoked in the CA's records.
        var ended = await w.EmspA.DeleteAsync($"/v1/contracts/{emaid}?reason=customer%20left");
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var final = await Json(ended);
        Assert.Equal("Terminated", final.GetProperty("state").GetString());
        Assert.Equal("customer left", final.GetProperty("terminationReason").GetString());
        Assert.Equal("Revoked", final.GetProperty("certificate").GetProperty("status").GetString());
        var record = await w.F.Ca.Certificates.GetAsync(final.GetProperty("certificate").GetProperty("issuerId").GetString()!, serial);
        Assert.Equal(CertificateStatus.Revoked, record!.Status);
        Assert.Equal("Terminated", (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}")).GetProperty("state").GetString());
        await Problem(HttpStatusCode.Conflict, await w.EmspA.DeleteAsync($"/v1/contracts/{emaid}"));
    }

    [Fact]
    public async Task The_OEM_pulls_signed_contract_data_the_car_accepts_and_lists_and_defaults_its_contracts()
    {
        using var car = await RegisteredCarAsync();
        var emaid = (await Json(await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid }))).GetProperty("emaid").GetString()!;

        var pulled = await w.OemA.GetAsync($"/v1/ccp/provideSignedContractData/{emaid}/{car.Pcid}?xsdMsgDefNamespace=urn:iso:15118:2:2013:MsgDef");
        Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        var body = await Json(pulled);
        Assert.Equal("urn:iso:15118:2:2013:MsgDef", body.GetProperty("xsdMsgDefNamespace").GetString());
        using (var installed = car.AcceptIso2Response(Convert.FromBase64String(body.GetProperty("certificateInstallationRes").GetString()!)))
            Assert.Equal(emaid, installed.Emaid);
        await Problem(HttpStatusCode.Forbidden, await w.OemB.GetAsync($"/v1/ccp/provideSignedContractData/{emaid}/{car.Pcid}"));
        await Problem(HttpStatusCode.Forbidden, await w.EmspA.GetAsync($"/v1/ccp/provideSignedContractData/{emaid}/{car.Pcid}"));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.GetAsync($"/v1/ccp/provideSignedContractData/{emaid}/bad"));
        await Problem(HttpStatusCode.NotFound, await w.OemA.GetAsync($"/v1/ccp/provideSignedContractData/{Emaid.Create("DE", "8AA", "CNOSUCH02").Normalized}/{car.Pcid}"));

        // The OEM sees every active contract of its vehicle; an eMSP only its own; the OEM picks the default.
        var other = (await Json(await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid }))).GetProperty("emaid").GetString()!;
        var listed = (await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/ccp/signedContractData/{car.Pcid}")).GetProperty("XMLContracts");
        Assert.Equal(new[] { emaid, other }.Order(), listed.EnumerateArray().Select(c => c.GetProperty("emaid").GetString()!).Order());
        Assert.Equal(2, (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/ccp/signedContractData/{car.Pcid}")).GetProperty("XMLContracts").GetArrayLength());
        Assert.Equal(0, (await w.EmspB.GetFromJsonAsync<JsonElement>($"/v1/ccp/signedContractData/{car.Pcid}")).GetProperty("XMLContracts").GetArrayLength());
        await Problem(HttpStatusCode.Forbidden, await w.OemB.GetAsync($"/v1/ccp/signedContractData/{car.Pcid}"));
        await Problem(HttpStatusCode.Forbidden, await w.Cpo.GetAsync($"/v1/ccp/signedContractData/{car.Pcid}"));
        Assert.Equal(HttpStatusCode.OK, (await w.OemA.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{other}/default", null)).StatusCode);
        Assert.True((await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{other}")).GetProperty("isDefault").GetBoolean());
        await Problem(HttpStatusCode.Forbidden, await w.OemB.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{emaid}/default", null));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{emaid}/default", null));

        // Deleting the vehicle ends its contracts: certificates revoked.
        var serial = (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}")).GetProperty("certificate").GetProperty("serial").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await w.OemA.DeleteAsync($"/v1/oem/provCerts/{car.Pcid}")).StatusCode);
        var after = await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}");
        Assert.Equal("Terminated", after.GetProperty("state").GetString());
        Assert.Equal("Revoked", after.GetProperty("certificate").GetProperty("status").GetString());
        Assert.Equal(CertificateStatus.Revoked, (await w.F.Ca.Certificates.GetAsync(after.GetProperty("certificate").GetProperty("issuerId").GetString()!, serial))!.Status);
        await Problem(HttpStatusCode.NotFound, await w.OemA.GetAsync($"/v1/oem/provCerts/{car.Pcid}"));
    }

    [Fact]
    public async Task eMSP_made_contract_data_is_signed_by_our_CPS_stored_and_pulled_unchanged_by_the_OEM()
    {
        using var car = await RegisteredCarAsync();
        // The eMSP's own MO CA (our dev MO Sub-CA 2 standing in) makes the certificate and encrypts the key for the car.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var emaid = Emaid.Create("DE", "8AA", $"CM{Random.Shared.Next(1_000_000, 9_999_999)}").Normalized;
        var issued = await w.F.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Actor = "emsp", Subject = new X509Name($"CN={emaid},DC=MO"),
            PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
        });
        using var vehicleKey = ECDiffieHellman.Create(car.ProvisioningKey.ExportParameters(false));
        var enc = ContractKeyEncryption.EncryptIso2(key.ExportParameters(true).D, vehicleKey.PublicKey);
        object Body(string? pcid) => new
        {
            contractData = new
            {
                contractCertificate = Convert.ToBase64String(issued.Certificate.GetEncoded()),
                contractSubCa2Certificate = Convert.ToBase64String(issued.IssuerChain[0].GetEncoded()),
                contractSubCa1Certificate = Convert.ToBase64String(issued.IssuerChain[1].GetEncoded()),
                contractSignatureEncryptedPrivateKey = Convert.ToBase64String(enc.EncryptedPrivateKey),
                dHpublickey = Convert.ToBase64String(enc.DhPublicKey),
            },
            pcid, xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef",
        };

        var signers = (await w.Cpo.GetFromJsonAsync<JsonElement>("/cps/signer")).GetProperty("cpsCertificates");
        // One ISO 15118-2 signer (the service also signs -20).
        var signer = Assert.Single(signers.EnumerateArray(), s => s.GetProperty("xsdMsgDefNamespace").GetString() == "urn:iso:15118:2:2013:MsgDef");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(w.V2gRoot.GetEncoded())), signer.GetProperty("cpsV2GRootCertificateFingerprint").GetString());

        // Without a PCID the CPS only signs; CCP PUT needs the PCID (it stores); another eMSP may not sign this EMAID.
        var only = await w.EmspA.PutAsJsonAsync("/v1/cps/contractData/signed", Body(null));
        Assert.Equal(HttpStatusCode.Created, only.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await Json(only)).GetProperty("pcid").ValueKind);
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PutAsJsonAsync("/v1/ccp/signedContractData", Body(null)));
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.PutAsJsonAsync("/v1/ccp/signedContractData", Body(car.Pcid)));
        await Problem(HttpStatusCode.Forbidden, await w.OemA.PutAsJsonAsync("/v1/cps/contractData/signed", Body(car.Pcid)));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.PutAsJsonAsync("/v1/cps/contractData/signed", new { contractData = new { contractCertificate = "%%%", contractSubCa1Certificate = "AAAA", contractSignatureEncryptedPrivateKey = "AA", dHpublickey = "AA" } }));
        await Problem((HttpStatusCode)501, await w.EmspA.PutAsJsonAsync("/v1/ccp/signedContractData", new { emaid, pcid = car.Pcid, xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef", signedContractDataXML = "PHg+" }));

        var stored = await w.EmspA.PutAsJsonAsync("/v1/ccp/signedContractData", Body(car.Pcid));
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        var signed = await Json(stored);
        Assert.Equal(car.Pcid, signed.GetProperty("pcid").GetString());
        Assert.Equal(signer.GetProperty("cpsV2GRootCertificateFingerprint").GetString(), signed.GetProperty("cpsV2GRootCertificateFingerprint").GetString());
        var signedData = Convert.FromBase64String(signed.GetProperty("signedData").GetString()!);
        using (var fromCps = car.AcceptIso2Response(signedData)) Assert.Equal(emaid, fromCps.Emaid);

        var pulled = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/ccp/provideSignedContractData/{emaid}/{car.Pcid}");
        Assert.Equal(signedData, Convert.FromBase64String(pulled.GetProperty("certificateInstallationRes").GetString()!));
        var contract = await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{emaid}");
        Assert.Equal("EmspSigned", contract.GetProperty("origin").GetString());

        // The deprecated OPCP shape (chain nested, sub-CAs in chain order) signs the same data without storing it.
        var legacy = await w.EmspA.PutAsJsonAsync("/v1/cps/signedContractData", new
        {
            xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef", pcid = car.Pcid, emaid,
            contractData = new
            {
                contractSignatureCertChain = new
                {
                    contractSignatureCertChainCertificate = Convert.ToBase64String(issued.Certificate.GetEncoded()),
                    contractSignatureCertChainSubCertificates = new[] { Convert.ToBase64String(issued.IssuerChain[0].GetEncoded()), Convert.ToBase64String(issued.IssuerChain[1].GetEncoded()) },
                },
                contractSignatureEncryptedPrivateKey = Convert.ToHexString(enc.EncryptedPrivateKey), // hex is read too
                dHpublickey = Convert.ToBase64String(enc.DhPublicKey), emaid,
            },
        });
        Assert.Equal(HttpStatusCode.Created, legacy.StatusCode);
        using (var fromLegacy = car.AcceptIso2Response(Convert.FromBase64String((await Json(legacy)).GetProperty("signedData").GetString()!))) Assert.Equal(emaid, fromLegacy.Emaid);

        // The eMSP deletes its signed data from the CCP: the contract ends and the OEM can no longer pull it.
        await Problem(HttpStatusCode.Forbidden, await w.EmspB.DeleteAsync($"/v1/ccp/signedContractData/{emaid}"));
        Assert.Equal(HttpStatusCode.OK, (await w.EmspA.DeleteAsync($"/v1/ccp/signedContractData/{emaid}")).StatusCode);
        await Problem(HttpStatusCode.Conflict, await w.OemA.GetAsync($"/v1/ccp/provideSignedContractData/{emaid}/{car.Pcid}"));
        await Problem(HttpStatusCode.BadRequest, await w.EmspA.DeleteAsync("/v1/ccp/signedContractData/nonsense"));

        // "Generate": our MO Sub-CA makes the contract; the OEM then pulls data the car accepts. Again replaces the certificate.
        var generated = Emaid.Create("DE", "8AA", $"CG{Random.Shared.Next(1_000_000, 9_999_999)}").Normalized;
        object Generate() => new { emaid = generated, pcid = car.Pcid, xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef", contractBegins = DateTimeOffset.UtcNow, contractEnds = DateTimeOffset.UtcNow.AddYears(1) };
        Assert.Equal(HttpStatusCode.Created, (await w.EmspA.PutAsJsonAsync("/v1/cps/generate/signedContractData", Generate())).StatusCode);
        var firstSerial = (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{generated}")).GetProperty("certificate").GetProperty("serial").GetString();
        Assert.Equal(HttpStatusCode.Created, (await w.EmspA.PutAsJsonAsync("/v1/cps/generate/signedContractData", Generate())).StatusCode);
        Assert.NotEqual(firstSerial, (await w.EmspA.GetFromJsonAsync<JsonElement>($"/v1/contracts/{generated}")).GetProperty("certificate").GetProperty("serial").GetString());
        var ota = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/ccp/provideSignedContractData/{generated}/{car.Pcid}");
        using (var installed = car.AcceptIso2Response(Convert.FromBase64String(ota.GetProperty("certificateInstallationRes").GetString()!))) Assert.Equal(generated, installed.Emaid);
        await Problem((HttpStatusCode)501, await w.EmspA.PutAsJsonAsync("/v1/cps/generate/signedContractData", new { emaid = generated, pcid = car.Pcid, subscriptionUrl = "https://emsp.example/hook" }));
    }

    [Fact]
    public async Task An_OEM_webhook_receives_an_HMAC_SHA256_signed_POST_when_an_eMSP_creates_a_contract_for_its_vehicle()
    {
        using var receiver = new WebhookReceiver();
        var create = await w.OemA.PostAsJsonAsync("/v1/webhook/endpoints", new
        {
            url = receiver.Url.ToString(), description = "contract events", enabledEvents = new[] { "mo.contract.created.sent.to.oem", "mo.contract.deleted.sent.to.oem" },
        });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var endpoint = await Json(create);
        var id = endpoint.GetProperty("id").GetString()!;
        var secret = endpoint.GetProperty("secret").GetString()!;
        Assert.Equal($"/v1/webhook/endpoints/{id}", create.Headers.Location?.OriginalString);
        Assert.False((await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}")).TryGetProperty("secret", out _)); // shown once
        Assert.Contains((await w.OemA.GetFromJsonAsync<JsonElement>("/v1/webhook/endpoints")).EnumerateArray(), e => e.GetProperty("id").GetString() == id);
        Assert.Empty((await w.OemB.GetFromJsonAsync<JsonElement>("/v1/webhook/endpoints")).EnumerateArray());
        await Problem(HttpStatusCode.NotFound, await w.OemB.GetAsync($"/v1/webhook/endpoints/{id}"));
        await Problem(HttpStatusCode.NotFound, await w.OemB.DeleteAsync($"/v1/webhook/endpoints/{id}"));
        await Problem(HttpStatusCode.Forbidden, await w.EmspA.GetAsync("/v1/webhook/endpoints"));
        var changed = await w.OemA.PutAsJsonAsync($"/v1/webhook/endpoints/{id}", new { description = "contract events (renamed)" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("contract events (renamed)", (await Json(changed)).GetProperty("description").GetString());
        Assert.Equal(2, (await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}")).GetProperty("enabledEvents").GetArrayLength()); // kept
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync($"/v1/webhook/endpoints/{id}", new { status = "paused" }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync($"/v1/webhook/endpoints/{id}", new { enabledEvents = new[] { "no.such.event" } }));
        await Problem(HttpStatusCode.NotFound, await w.OemB.PutAsJsonAsync($"/v1/webhook/endpoints/{id}", new { description = "not mine" }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PostAsJsonAsync("/v1/webhook/endpoints", new { url = "ftp://x", enabledEvents = new[] { "mo.contract.created.sent.to.oem" } }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PostAsJsonAsync("/v1/webhook/endpoints", new { url = receiver.Url.ToString(), enabledEvents = new[] { "no.such.event" } }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.GetAsync("/v1/webhook/endpoints/not-a-uuid"));

        using var car = await RegisteredCarAsync();
        var emaid = (await Json(await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid }))).GetProperty("emaid").GetString()!;
        var (body, signature, hubject, contentType) = await ReceiveAsync(receiver, "mo.contract.created.sent.to.oem", emaid);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.ASCII.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
        Assert.Equal(expected, signature);
        Assert.Equal("sha256=" + expected, hubject);
        Assert.StartsWith("application/json", contentType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(car.Pcid, json.GetProperty("payload").GetProperty("pcid").GetString());
        Assert.Equal("urn:iso:15118:2:2013:MsgDef", json.GetProperty("xsdMsgDefNamespace").GetString());
        Assert.True(Guid.TryParse(json.GetProperty("eventId").GetString(), out _));

        Assert.Equal(HttpStatusCode.OK, (await w.EmspA.DeleteAsync($"/v1/contracts/{emaid}")).StatusCode);
        await ReceiveAsync(receiver, "mo.contract.deleted.sent.to.oem", emaid);
        // The "updated" event (certificate issued) was not subscribed, so it never left.
        Assert.DoesNotContain(receiver.Received, r => r.Body.Contains("mo.contract.updated.sent.to.oem", StringComparison.Ordinal));

        // The dispatcher records the outcome after the receiver's answer, so the record may trail the POST a little.
        bool Delivered(JsonElement list) => list.EnumerateArray().Any(d => d.GetProperty("eventType").GetString() == "mo.contract.created.sent.to.oem" && d.GetProperty("state").GetString() == "Delivered");
        var deliveries = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}/deliveries");
        for (var i = 0; i < 100 && !Delivered(deliveries); i++)
        {
            await Task.Delay(100);
            deliveries = await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}/deliveries");
        }
        Assert.True(Delivered(deliveries), deliveries.ToString());
        await Problem(HttpStatusCode.NotFound, await w.OemB.GetAsync($"/v1/webhook/endpoints/{id}/deliveries"));

        // Disabled, the endpoint gets no new events: a new contract queues no delivery for it.
        Assert.Equal(HttpStatusCode.OK, (await w.OemA.PutAsJsonAsync($"/v1/webhook/endpoints/{id}", new { status = "disabled" })).StatusCode);
        var before = (await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}/deliveries")).GetArrayLength();
        Assert.Equal(HttpStatusCode.Created, (await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid })).StatusCode);
        Assert.Equal(before, (await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/webhook/endpoints/{id}/deliveries")).GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await w.OemA.DeleteAsync($"/v1/webhook/endpoints/{id}")).StatusCode);
        await Problem(HttpStatusCode.NotFound, await w.OemA.GetAsync($"/v1/webhook/endpoints/{id}"));
    }

    [Fact]
    public async Task The_operator_acts_for_the_owning_participant_and_broken_certificates_are_refused_as_bad_requests()
    {
        await EnsureOemRootAsync();
        using var car = await w.NewCarAsync();
        // The operator publishes a vehicle for the OEM that owns its WMI, and makes a contract for the eMSP of the provider ID.
        Assert.Equal(HttpStatusCode.OK, (await w.Admin.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).StatusCode);
        Assert.Equal("oem-a", (await w.OemA.GetFromJsonAsync<JsonElement>($"/v1/oem/provCerts/lookupVehicle/{car.Pcid}")).GetProperty("oemId").GetString());
        var created = await w.Admin.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, providerId = "DE-8AA", issueCertificate = false });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var contract = await Json(created);
        Assert.Equal("emsp-a", contract.GetProperty("emspId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await w.EmspA.GetAsync($"/v1/contracts/{contract.GetProperty("emaid").GetString()}")).StatusCode);
        await Problem(HttpStatusCode.BadRequest, await w.Admin.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid }));
        await Problem(HttpStatusCode.BadRequest, await w.Admin.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, providerId = "XX9ZZ" }));

        // Broken or wrong certificates: 400 when unreadable, 422 when readable but not a provisioning certificate.
        var der = car.ProvisioningCertificate;
        foreach (var broken in new[] { der[..^12], der[20..], RandomNumberGenerator.GetBytes(300), [0x30, 0x82, 0xFF, 0xFF, 0x01] })
            await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new
            {
                vehicleCertificate = Convert.ToBase64String(broken), subCA1Certificate = Convert.ToBase64String(car.ProvisioningSubCas[1]),
            }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new
        {
            vehicleCertificate = PemEncoding.WriteString("PRIVATE KEY", der), subCA1Certificate = Convert.ToBase64String(car.ProvisioningSubCas[1]),
        }));
        await Problem((HttpStatusCode)422, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new
        {
            vehicleCertificate = Convert.ToBase64String(w.V2gRoot.GetEncoded()), subCA1Certificate = Convert.ToBase64String(car.ProvisioningSubCas[1]),
        }));
        await Problem(HttpStatusCode.BadRequest, await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", new
        {
            vehicleCertificate = Convert.ToBase64String(der), subCA1Certificate = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
        }));

        var doc = await w.Cpo.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        foreach (var path in new[] { "/v1/oem/provCerts/{pcid}", "/v1/contracts/{emaid}", "/v1/ccp/provideSignedContractData/{emaid}/{pcid}", "/v1/cps/contractData/signed", "/v1/webhook/endpoints/{id}/deliveries" })
            Assert.True(doc.GetProperty("paths").TryGetProperty(path, out _), path);
    }

    private static async Task<(string Body, string? Signature, string? Hubject, string? ContentType)> ReceiveAsync(WebhookReceiver receiver, string eventType, string emaid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var r in receiver.Received)
            {
                var e = JsonDocument.Parse(r.Body).RootElement;
                if (e.GetProperty("eventType").GetString() == eventType && e.GetProperty("payload").GetProperty("emaid").GetString() == emaid) return r;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"No {eventType} for {emaid} reached the webhook receiver.");
    }
}
