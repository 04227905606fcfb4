using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Samples.Roaming;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace PlugAndCharge.FaultSuite;

/// <summary>A car of the load: its simulator, the CertificateInstallationReq it sends, and the contract it received.</summary>
public sealed record Car(VehicleSimulator Vehicle, string Pcid, string Emaid, byte[] InstallationRequest, string ChainPem, BcCertificate Contract, BcCertificate ContractIssuer);

/// <summary>What the load needs: the participants' clients, the stations, the cars with their contracts.</summary>
public sealed class World
{
    public required HttpClient Emsp, Cpo, Public;
    public required IReadOnlyList<string> StationIds;
    public required string StationPassword;
    public required IReadOnlyList<Car> Cars;
    public required Guid WebhookEndpointId;
    public required X509Certificate2 CpoCertificate;
}

/// <summary>
/// Sets up the world through the real interfaces, as the roaming sample does: the hub operator onboards an OEM, an eMSP
/// and a CPO (mutual TLS), the roots go into the pool, the OEM enrolls its cars (EST) and uploads them (PCP) and
/// subscribes to webhooks, the eMSP creates a contract per car, the CPO registers its stations.
/// </summary>
public static class Setup
{
    private const string Iso2 = "urn:iso:15118:2:2013:MsgDef";
    private const string Wmi = "FLT", Provider = "DEFLT", CpoOperator = "NLFLT";

    public static async Task<World> RunAsync(ClusterControl cluster, int cars, int stations, string webhookUrl, TextWriter log)
    {
        var ct = CancellationToken.None;
        var admin = ClientFor(cluster, cluster.AdminCertificate());
        var publicHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8192, PooledConnectionLifetime = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(5) }) { BaseAddress = new Uri(cluster.PublicUrl), Timeout = TimeSpan.FromSeconds(30) };
        var oem = ClientFor(cluster, await HubCalls.OnboardAsync(admin, "fault-oem", "Oem", Wmi, "fault-oem", ct));
        var emsp = ClientFor(cluster, await HubCalls.OnboardAsync(admin, "fault-emsp", "Emsp", Provider, "fault-emsp", ct));
        var cpoCertificate = await HubCalls.OnboardAsync(admin, "fault-cpo", "Cpo", CpoOperator, "fault-cpo", ct);
        var cpo = ClientFor(cluster, cpoCertificate);

        var v2g = new BcCertificate(await publicHttp.GetByteArrayAsync("/ca/iso2-v2g-root.der"));
        var mo = await publicHttp.GetByteArrayAsync("/ca/iso2-mo-root.der");
        var oemRoot = await publicHttp.GetByteArrayAsync("/ca/iso2-oem-root.der");
        await Http.SendAsync(admin, HttpMethod.Put, "/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(v2g.GetEncoded()), rootType = "V2G" }, ct, 200, 201, 409);
        await Http.SendAsync(admin, HttpMethod.Put, "/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(mo), rootType = "MO" }, ct, 200, 201, 409);
        await Http.SendAsync(oem, HttpMethod.Put, "/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(oemRoot), rootType = "OEM", wmis = new[] { Wmi } }, ct, 200, 201, 409);

        // The OEM hears about every contract change of its cars (at least once, with a stable event id).
        var hook = await Http.SendAsync(oem, HttpMethod.Post, "/v1/webhook/endpoints",
            new { url = webhookUrl, enabledEvents = new[] { "mo.contract.created.sent.to.oem", "mo.contract.updated.sent.to.oem", "mo.contract.deleted.sent.to.oem" }, description = "fault suite" }, ct, 200, 201);
        var endpointId = Guid.Parse(hook.Body!["id"]!.GetValue<string>());

        var subCas = (await HubCalls.CaCertsAsync(publicHttp, "oem", ct)).Where(c => !c.SubjectDN.Equivalent(c.IssuerDN)).ToList();
        var list = new List<Car>();
        for (var i = 0; i < cars; i++)
        {
            var pcid = Wmi + RandomNumberGenerator.GetHexString(14, lowercase: false);
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var provisioning = await HubCalls.EnrollAsync(oem, "oem", new CertificateRequest($"CN={pcid}, O=Fault Motors, DC=OEM", key, HashAlgorithmName.SHA256).CreateSigningRequest(), ct);
            await Http.SendAsync(oem, HttpMethod.Put, "/v1/oem/provCerts", new
            {
                provisioningCertificate = Convert.ToBase64String(provisioning.GetEncoded()),
                subCA2Certificate = Convert.ToBase64String(subCas[0].GetEncoded()),
                subCA1Certificate = Convert.ToBase64String(subCas[^1].GetEncoded()),
                xsdMsgDefNamespace = Iso2,
            }, ct, 200, 201);
            var contract = await Http.SendAsync(emsp, HttpMethod.Post, "/v1/contracts", new { pcid, providerId = Provider, @default = true }, ct, 201);
            var emaid = contract.Body!["emaid"]!.GetValue<string>();
            var car = new VehicleSimulator(key, provisioning.GetEncoded(), subCas.Select(c => c.GetEncoded()).ToList(), [v2g]);
            var request = car.BuildInstallationRequest();
            // One installation through the CCP gives the contract chain the stations present in Authorize.
            var answer = await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ccp/signedContractData", new { certificateInstallationReq = Convert.ToBase64String(request), xsdMsgDefNamespace = Iso2 }, ct, 200);
            var exi = Convert.FromBase64String(answer.Body!["CCPResponse"]!["emaidContent"]![0]!["messageDef"]!["certificateInstallationRes"]!.GetValue<string>());
            using var installed = car.AcceptIso2Response(exi);
            var chain = string.Concat(new[] { installed.Certificate }.Concat(installed.SubCertificates).Select(d => PemEncoding.WriteString("CERTIFICATE", d) + "\n"));
            list.Add(new Car(car, pcid, emaid, request, chain, new BcCertificate(installed.Certificate), new BcCertificate(installed.SubCertificates[0])));
        }
        log.WriteLine($"setup: {cars} cars with contracts ({string.Join(", ", list.Take(8).Select(c => c.Emaid))}{(cars > 8 ? ", ..." : "")})");

        var password = "fault-" + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var ids = new List<string>();
        for (var i = 0; i < stations; i++)
        {
            var id = $"FLT-{i:D4}";
            var (status, _) = await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", new { stationId = id, securityProfile = 2, password, serialNumber = "SN-" + id }, ct, 201, 409);
            if (status == 409)
            {
                await Http.SendAsync(cpo, HttpMethod.Delete, $"/v1/ocpp/stations/{id}", null, ct, 200, 204);
                await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", new { stationId = id, securityProfile = 2, password, serialNumber = "SN-" + id }, ct, 201);
            }
            ids.Add(id);
        }
        log.WriteLine($"setup: {stations} stations registered (security profile 2)");
        return new World { Emsp = emsp, Cpo = cpo, Public = publicHttp, StationIds = ids, StationPassword = password, Cars = list, WebhookEndpointId = endpointId, CpoCertificate = cpoCertificate };

        static HttpClient ClientFor(ClusterControl c, X509Certificate2 cert) => HttpStream.Client(c.ParticipantUrl, c.TlsCa, cert);
    }

    /// <summary>The OCSP request for a contract certificate (RFC 6960, SHA-1 CertID as chargers send it) and its responder URL.</summary>
    public static (string Url, byte[] Request) OcspRequest(Car car)
    {
        var id = new Org.BouncyCastle.Ocsp.CertificateID(Org.BouncyCastle.Ocsp.CertificateID.DigestSha1, car.ContractIssuer, car.Contract.SerialNumber);
        var generator = new Org.BouncyCastle.Ocsp.OcspReqGenerator();
        generator.AddRequest(id);
        var aia = AuthorityInformationAccess.GetInstance(X509ExtensionUtilities.FromExtensionValue(car.Contract.GetExtensionValue(X509Extensions.AuthorityInfoAccess)));
        var url = aia.GetAccessDescriptions().First(d => d.AccessMethod.Equals(AccessDescription.IdADOcsp)).AccessLocation.Name.ToString()!;
        return (new Uri(url).PathAndQuery, generator.Generate().GetEncoded());
    }

    /// <summary>The CRL distribution point of the contract's issuer, as a path on the public front.</summary>
    public static string CrlPath(Car car)
    {
        var points = CrlDistPoint.GetInstance(X509ExtensionUtilities.FromExtensionValue(car.Contract.GetExtensionValue(X509Extensions.CrlDistributionPoints)));
        var name = ((GeneralNames)points.GetDistributionPoints()[0].DistributionPointName.Name).GetNames()[0];
        return new Uri(((IAsn1String)name.Name).GetString()).PathAndQuery;
    }
}
