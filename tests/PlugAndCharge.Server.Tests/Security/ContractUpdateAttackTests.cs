using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 21, finding 1: a CertificateUpdateReq is honoured only for a certificate the service issued for that very
/// contract (its current one, or one superseded within the grace window). Attacks go through the real path: an ocpp-rpc
/// station of a registered CPO sends Get15118EVCertificate (action Update) over the WebSocket, and a CSMS posts to the
/// OPCP CCP endpoint; each refusal is a complete CertificateUpdateRes with a FAILED_* code signed by the CPS, and no
/// certificate is issued.
/// </summary>
public sealed class ContractUpdateAttackTests(ContractApiFixture w) : IClassFixture<ContractApiFixture>
{
    [Fact]
    public async Task A_station_certificate_named_after_a_victims_eMAID_does_not_update_the_victims_contract()
    {
        var (car, victim) = await ContractAttack.InstalledCarAsync(w);
        using var _ = car;
        using var __ = victim;
        // A V2G-chained certificate with CN = the victim's eMAID: what SignCertificate gave a station whose BootNotification
        // serialNumber was that eMAID (the station side is closed separately), issued here from the CPO Sub-CA directly.
        using var stolen = await ContractAttack.IssueAsync(w, "ocpp/charging-station", "iso2-cpo-subca2", $"CN={victim.Emaid},O=Attacker CPO");
        using var forged = new InstalledContract(victim.Emaid, stolen.Der, stolen.SubCas, stolen.Key);

        var before = await ContractAttack.IssuedCountAsync(w);
        var answer = await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(forged));
        ContractAttack.AssertSignedFailure(w, answer);
        Assert.Equal(before, await ContractAttack.IssuedCountAsync(w));
    }

    /// <summary>
    /// A station past its update budget still gets what a charger needs (OCPP 2.0.1 M02: exiResponse on Failed too): a
    /// signed FAILED CertificateUpdateRes, made without any contract work.
    /// </summary>
    [Fact]
    public async Task An_update_refused_for_the_stations_budget_is_a_signed_FAILED_response_and_issues_nothing()
    {
        var (car, victim) = await ContractAttack.InstalledCarAsync(w);
        using var _ = car;
        using var __ = victim;
        var service = w.F.App.Services.GetRequiredService<PlugAndCharge.Ocpp.EvCertificates.IEvCertificateService>();
        var before = await ContractAttack.IssuedCountAsync(w);
        var refused = await service.RefuseAsync(new PlugAndCharge.Ocpp.EvCertificates.EvCertificateRequest("CS-ANY", "cpo-a", "urn:iso:15118:2:2013:MsgDef",
            PlugAndCharge.Ocpp.EvCertificates.EvCertificateAction.Update, Convert.ToBase64String(car.BuildUpdateRequest(victim)), null, null), "RateLimitExceeded");
        Assert.Equal("RateLimitExceeded", refused.ReasonCode);
        ContractAttack.AssertSignedFailure(w, JsonSerializer.SerializeToElement(new { status = "Failed", exiResponse = refused.ExiResponse }));
        Assert.Equal(before, await ContractAttack.IssuedCountAsync(w));
    }

    [Fact]
    public async Task An_MO_chained_certificate_not_issued_for_the_contract_does_not_update_it()
    {
        var (car, victim) = await ContractAttack.InstalledCarAsync(w);
        using var _ = car;
        using var __ = victim;
        // A contract-profile certificate from our own MO Sub-CA 2 with the victim's eMAID as CN, but never registered for
        // the contract (e.g. enrolled over EST by an eMSP client, or left over from an earlier contract with that eMAID).
        using var foreign = await ContractAttack.IssueAsync(w, "iso2/contract", "iso2-mo-subca2", $"CN={victim.Emaid},O=PlugAndCharge,DC=MO");
        using var forged = new InstalledContract(victim.Emaid, foreign.Der, foreign.SubCas, foreign.Key);

        var before = await ContractAttack.IssuedCountAsync(w);
        ContractAttack.AssertSignedFailure(w, await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(forged)));
        // The CSMS path (OPCP CCP POST /v1/ccp/signedContractData) answers the same request the same way.
        ContractAttack.AssertSignedFailure(w, await ContractAttack.UpdateOverCcpAsync(w, car.BuildUpdateRequest(forged)));
        Assert.Equal(before, await ContractAttack.IssuedCountAsync(w));
    }

    [Fact]
    public async Task Another_contracts_genuine_certificate_does_not_update_the_victims_contract()
    {
        var (car, victim) = await ContractAttack.InstalledCarAsync(w);
        var (otherCar, other) = await ContractAttack.InstalledCarAsync(w); // same eMSP, another contract
        using var _ = car;
        using var __ = victim;
        using var ___ = otherCar;
        using var ____ = other;
        using var forged = new InstalledContract(victim.Emaid, other.Certificate, other.SubCertificates, other.Key);

        var before = await ContractAttack.IssuedCountAsync(w);
        ContractAttack.AssertSignedFailure(w, await ContractAttack.UpdateOverOcppAsync(w, otherCar.BuildUpdateRequest(forged)));
        Assert.Equal(before, await ContractAttack.IssuedCountAsync(w));
    }

    [Fact]
    public async Task The_car_updates_with_its_current_certificate_and_with_the_one_it_just_replaced()
    {
        var (car, first) = await ContractAttack.InstalledCarAsync(w);
        using var _ = car;
        using var __ = first;
        var answer = await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(first));
        Assert.Equal("Accepted", answer.GetProperty("status").GetString());
        using var second = car.AcceptIso2Response(Convert.FromBase64String(answer.GetProperty("exiResponse").GetString()!), first);
        Assert.Equal(first.Emaid, second.Emaid);
        Assert.False(second.Certificate.AsSpan().SequenceEqual(first.Certificate));

        // The update's answer was lost on the way to the car: it asks again with the certificate it still holds, which the
        // first update superseded a moment ago (within ContractOptions.SupersededCertificateGrace).
        var retry = await ContractAttack.UpdateOverOcppAsync(w, car.BuildUpdateRequest(first));
        Assert.Equal("Accepted", retry.GetProperty("status").GetString());
        using var third = car.AcceptIso2Response(Convert.FromBase64String(retry.GetProperty("exiResponse").GetString()!), first);
        Assert.Equal(first.Emaid, third.Emaid);
    }
}

/// <summary>The real paths the contract attack tests use, on the host of <see cref="ContractApiFixture"/>.</summary>
internal static class ContractAttack
{
    public const string Iso2 = "urn:iso:15118:2:2013:MsgDef";
    private const string Password = "an-attack-station-password-01";
    private static readonly SemaphoreSlim StationOnce = new(1, 1);
    private static readonly HashSet<ContractApiFixture> Stations = [];

    private static string StationId(ContractApiFixture w) => "CS-ATTACK-" + w.GetHashCode().ToString("x8");

    /// <summary>A car of OEM A in the pool with a contract of eMSP A (DE8AA), installed over OCPP.</summary>
    public static async Task<(VehicleSimulator Car, InstalledContract Contract)> InstalledCarAsync(ContractApiFixture w, HttpClient? emsp = null)
    {
        var oemRoot = await w.OemA.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(w.OemRoot), rootType = "OEM" });
        Assert.True(oemRoot.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"OEM root: {oemRoot.StatusCode}");
        var car = await w.NewCarAsync();
        (await w.OemA.PutAsJsonAsync("/v1/oem/provCerts", ContractApiFixture.ProvCertBody(car))).EnsureSuccessStatusCode();
        var created = await (emsp ?? w.EmspA).PostAsJsonAsync("/v1/contracts", new { pcid = car.Pcid });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var answer = await GetEvCertificateAsync(w, "Install", car.BuildInstallationRequest());
        Assert.Equal("Accepted", answer.GetProperty("status").GetString());
        return (car, car.AcceptIso2Response(Convert.FromBase64String(answer.GetProperty("exiResponse").GetString()!)));
    }

    public static Task<JsonElement> UpdateOverOcppAsync(ContractApiFixture w, byte[] exi) => GetEvCertificateAsync(w, "Update", exi);

    /// <summary>Get15118EVCertificate from an ocpp-rpc station of CPO cpo-a (security profile 2) over the host's WebSocket.</summary>
    public static Task<JsonElement> GetEvCertificateAsync(ContractApiFixture w, string action, byte[] exi) =>
        GetEvCertificateAsync(w, "ocpp2.0.1", new { iso15118SchemaVersion = Iso2, action, exiRequest = Convert.ToBase64String(exi) });

    /// <summary>Get15118EVCertificate with <paramref name="request"/> as the payload, over <paramref name="protocol"/>.</summary>
    public static async Task<JsonElement> GetEvCertificateAsync(ContractApiFixture w, string protocol, object request)
    {
        await EnsureStationAsync(w);
        var run = await NodeStation.RunAsync(new Dictionary<string, object?>
        {
            ["endpoint"] = w.F.HttpsUrl.Replace("https://", "wss://") + "/ocpp", ["identity"] = StationId(w), ["protocol"] = protocol,
            ["password"] = Password, ["ca"] = w.F.ParticipantCa.ExportCertificatePem(), ["strict"] = false,
            ["steps"] = new object[] { new { call = "Get15118EVCertificate", @params = request } },
        });
        return run.Ok(0);
    }

    private static async Task EnsureStationAsync(ContractApiFixture w)
    {
        await StationOnce.WaitAsync();
        try
        {
            if (!Stations.Add(w)) return;
            var r = await w.Cpo.PostAsJsonAsync("/v1/ocpp/stations", new { stationId = StationId(w), securityProfile = 2, password = Password, serialNumber = "SN-ATTACK" });
            Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"station: {r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }
        finally { StationOnce.Release(); }
    }

    /// <summary>The same request through OPCP CCP POST /v1/ccp/signedContractData as the CSMS of CPO cpo-a.</summary>
    public static async Task<JsonElement> UpdateOverCcpAsync(ContractApiFixture w, byte[] exi)
    {
        var response = await w.Cpo.PostAsJsonAsync("/v1/ccp/signedContractData", new { certificateInstallationReq = Convert.ToBase64String(exi), xsdMsgDefNamespace = Iso2 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messageDef = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("CCPResponse").GetProperty("emaidContent")[0].GetProperty("messageDef");
        Assert.StartsWith("FAILED", messageDef.GetProperty("metaData").GetString());
        return JsonSerializer.SerializeToElement(new { status = "Failed", exiResponse = messageDef.GetProperty("certificateInstallationRes").GetString() });
    }

    /// <summary>
    /// The protocol's own refusal: status Failed with an exiResponse that decodes to a complete CertificateUpdateRes with
    /// a FAILED_* ResponseCode, signed by a CPS leaf that chains to the V2G root.
    /// </summary>
    public static void AssertSignedFailure(ContractApiFixture w, JsonElement answer)
    {
        Assert.Equal("Failed", answer.GetProperty("status").GetString());
        var message = ExiSchema.Iso2.Decode(Convert.FromBase64String(answer.GetProperty("exiResponse").GetString()!));
        var res = message.Element("Body")!.Element("CertificateUpdateRes")!;
        Assert.StartsWith("FAILED", res.Element("ResponseCode")!.Text);
        var cpsLeaf = CertificateFacts.Read(res.Element("SAProvisioningCertificateChain")!.Element("Certificate")!.Value.AsBytes(), "CPS leaf");
        var cpsSubs = res.Element("SAProvisioningCertificateChain")!.Element("SubCertificates")!.Elements().Select(e => e.Value.AsBytes()).ToList();
        PlugAndCharge.Tests.OpenSsl.Verify(w.V2gRoot.GetEncoded(), cpsSubs, cpsLeaf.GetEncoded());
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(cpsLeaf.SubjectPublicKeyInfo.GetEncoded(), out _);
        Assert.True(ExiSignature.Verify(ExiSchema.Iso2, message, key).IsValid);
        // No contract material in a refusal.
        Assert.Equal([0], res.Element("ContractSignatureEncryptedPrivateKey")!.Value.AsBytes());
    }

    /// <summary>Certificates the CA has issued so far (any CA): an attack must not add one.</summary>
    public static async Task<long> IssuedCountAsync(ContractApiFixture w)
    {
        await using var conn = await w.F.Db.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select count(*) from certificates where issuer_id = 'iso2-mo-subca2'");
    }

    public sealed record Issued(byte[] Der, IReadOnlyList<byte[]> SubCas, ECDsa Key) : IDisposable
    {
        public void Dispose() => Key.Dispose();
    }

    /// <summary>A certificate of <paramref name="profileId"/> from <paramref name="issuerId"/> with the attacker's own key.</summary>
    public static async Task<Issued> IssueAsync(ContractApiFixture w, string profileId, string issuerId, string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest(subject.Replace(",", ", "), key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = await w.F.Ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = profileId, IssuerId = issuerId, Csr = csr, Subject = new X509Name(subject), Actor = "attacker" });
        var subs = issued.IssuerChain.Where(c => !c.SubjectDN.Equivalent(c.IssuerDN, true)).Select(c => c.GetEncoded()).ToList();
        return new Issued(issued.Certificate.GetEncoded(), subs, key);
    }
}
