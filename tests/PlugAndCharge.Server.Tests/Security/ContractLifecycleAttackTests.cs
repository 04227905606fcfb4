using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 21, findings 6 and 9, over the real interfaces: ending a contract through the eMSP API revokes every
/// certificate the contract ever had (public OCSP and CRL say so); and the vehicle's default contract belongs to the
/// vehicle's side: an eMSP cannot displace another eMSP's default, the OEM owning the WMI can, another OEM cannot.
/// </summary>
public sealed class ContractLifecycleAttackTests(ContractApiFixture w) : IClassFixture<ContractApiFixture>
{
    private const string MoSubCa = "iso2-mo-subca2";

    private static async Task<JsonElement> Json(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task Problem(HttpStatusCode expected, HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, JsonDocument.Parse(text).RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Terminating_a_contract_revokes_every_certificate_it_ever_had_in_OCSP_and_the_CRL()
    {
        var (car, first) = await ContractAttack.InstalledCarAsync(w);
        using var _ = car;
        using var __ = first;
        var emaid = first.Emaid;
        var certificates = new List<byte[]> { first.Certificate };
        // The eMSP renews the certificate, the car updates: the contract has had four certificates (the one bound at
        // creation is the one the car installed).
        var renewed = await Json(await w.EmspA.PostAsync($"/v1/contracts/{emaid}/certificate", null));
        var pem = renewed.GetProperty("certificate").GetProperty("pem").GetString()!;
        certificates.Add(Convert.FromBase64String(pem[System.Security.Cryptography.PemEncoding.Find(pem).Base64Data]));
        var update = await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(first));
        Assert.Equal("Accepted", update.GetProperty("status").GetString());
        using var second = car.AcceptIso2Response(Convert.FromBase64String(update.GetProperty("exiResponse").GetString()!), first);
        certificates.Add(second.Certificate);
        var again = await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(second));
        Assert.Equal("Accepted", again.GetProperty("status").GetString());
        using var third = car.AcceptIso2Response(Convert.FromBase64String(again.GetProperty("exiResponse").GetString()!), second);
        certificates.Add(third.Certificate);
        Assert.Equal(4, certificates.Select(Convert.ToHexString).Distinct().Count());
        foreach (var der in certificates) Assert.Equal("good", Ocsp(der));

        var ended = await Json(await w.EmspA.DeleteAsync($"/v1/contracts/{emaid}?reason=attack%20test"));
        Assert.Equal("Terminated", ended.GetProperty("state").GetString());

        using var http = new HttpClient { BaseAddress = new Uri(w.F.HttpUrl) };
        var crl = new Org.BouncyCastle.X509.X509CrlParser().ReadCrl(await http.GetByteArrayAsync($"/crl/{MoSubCa}.crl"));
        foreach (var (der, i) in certificates.Select((d, i) => (d, i)))
        {
            Assert.True(await OcspEventuallyAsync(der, "revoked"), $"certificate {i} of {certificates.Count} is not revoked in OCSP");
            Assert.NotNull(crl.GetRevokedCertificate(CertificateFacts.Read(der, "contract certificate").SerialNumber));
        }
    }

    /// <summary>
    /// Pre-signed OCSP answers learn of a revocation within the responder's poll interval (1 s, docs/operator-guide.md §7):
    /// ask until the answer is <paramref name="expected"/>, for at most 10 s.
    /// </summary>
    private async Task<bool> OcspEventuallyAsync(byte[] der, string expected)
    {
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(250))
            if (Ocsp(der) == expected) return true;
        return false;
    }

    /// <summary>The status the service's public /ocsp endpoint gives, asked with openssl (RFC 6960 over HTTP POST).</summary>
    private string Ocsp(byte[] der)
    {
        var name = Guid.NewGuid().ToString("N");
        var leaf = w.F.WritePem(name + ".pem", System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", der));
        var issuerDer = w.F.Ca.Authorities.GetAsync(MoSubCa).GetAwaiter().GetResult().Certificate.GetEncoded();
        var issuer = w.F.WritePem(name + "-issuer.pem", System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", issuerDer));
        var (code, output) = PlugAndCharge.Tests.OpenSsl.Run("ocsp", "-issuer", issuer, "-cert", leaf, "-url", $"{w.F.HttpUrl}/ocsp/{MoSubCa}", "-no_nonce", "-noverify");
        Assert.True(code == 0, output);
        var line = output.Split('\n').First(l => l.StartsWith(leaf + ":", StringComparison.Ordinal));
        return line[(leaf.Length + 1)..].Trim();
    }

    [Fact]
    public async Task An_eMSP_cannot_displace_another_eMSPs_default_the_OEM_of_the_WMI_chooses()
    {
        var oemRoot = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM" });
        Assert.True(oemRoot.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict);
        using var car = await w.NewCarAsync();
        (await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).EnsureSuccessStatusCode();

        var a = await Json(await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, @default = true }), HttpStatusCode.Created);
        Assert.True(a.GetProperty("isDefault").GetBoolean());
        var emaidA = a.GetProperty("emaid").GetString()!;

        // eMSP B binds the same car asking for default: the binding is made, but not as the default (A's stays).
        var b = await Json(await w.EmspB.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, @default = true }), HttpStatusCode.Created);
        var emaidB = b.GetProperty("emaid").GetString()!;
        Assert.False(b.GetProperty("isDefault").GetBoolean());
        Assert.True((await Json(await w.EmspA.GetAsync($"/v1/contracts/{emaidA}"))).GetProperty("isDefault").GetBoolean());

        // Nor can B make its contract the default afterwards, on either path: 409 problem details.
        await Problem(HttpStatusCode.Conflict, await w.EmspB.PostAsync($"/v1/contracts/{emaidB}/default", null));
        await Problem(HttpStatusCode.Conflict, await w.EmspB.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{emaidB}/default", null));
        Assert.True((await Json(await w.EmspA.GetAsync($"/v1/contracts/{emaidA}"))).GetProperty("isDefault").GetBoolean());

        // Another OEM (WMI WMB) cannot choose; the OEM owning WMI WMA can (OPCP CCP setDefault).
        await Problem(HttpStatusCode.Forbidden, await w.OemB.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{emaidB}/default", null));
        Assert.True((await Json(await w.EmspA.GetAsync($"/v1/contracts/{emaidA}"))).GetProperty("isDefault").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await w.OemA.PostAsync($"/v1/ccp/signedContractData/{car.Pcid}/{emaidB}/default", null)).StatusCode);
        Assert.True((await Json(await w.EmspB.GetAsync($"/v1/contracts/{emaidB}"))).GetProperty("isDefault").GetBoolean());
        Assert.False((await Json(await w.EmspA.GetAsync($"/v1/contracts/{emaidA}"))).GetProperty("isDefault").GetBoolean());

        // Now B's contract is the default: A cannot take it back, and A's new contract with default:true stays non-default.
        var a2 = await Json(await w.EmspA.PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid, @default = true }), HttpStatusCode.Created);
        Assert.False(a2.GetProperty("isDefault").GetBoolean());
        await Problem(HttpStatusCode.Conflict, await w.EmspA.PostAsync($"/v1/contracts/{emaidA}/default", null));

        // Once no other eMSP's contract is the default (B's ended), an eMSP's own default applies again.
        await Json(await w.EmspB.DeleteAsync($"/v1/contracts/{emaidB}"));
        Assert.True((await Json(await w.EmspA.PostAsync($"/v1/contracts/{emaidA}/default", null))).GetProperty("isDefault").GetBoolean());
        // And the eMSP holding the default moves it among its own contracts.
        Assert.True((await Json(await w.EmspA.PostAsync($"/v1/contracts/{a2.GetProperty("emaid").GetString()}/default", null))).GetProperty("isDefault").GetBoolean());
        Assert.False((await Json(await w.EmspA.GetAsync($"/v1/contracts/{emaidA}"))).GetProperty("isDefault").GetBoolean());
    }
}
