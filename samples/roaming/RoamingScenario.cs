using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509.Extension;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Ocpp.Certificates;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace PlugAndCharge.Samples.Roaming;

/// <summary>Who plays in the scenario; the defaults tell a German eMSP's driver charging on a Dutch CPO's network.</summary>
public sealed record ScenarioOptions
{
    public string OemId { get; init; } = "sample-oem";
    public string Wmi { get; init; } = "WPN";
    public string EmspId { get; init; } = "sample-emsp";
    public string EmspCountry { get; init; } = "DE";
    public string EmspProviderId { get; init; } = "SMP";
    public string CpoId { get; init; } = "sample-cpo";
    public string CpoOperatorId { get; init; } = "NLGRN";
    public string StationId { get; init; } = "GRN-CS-0001";
    /// <summary>Where to write the three participants' client certificates and keys for trying the APIs by hand (null: nowhere).</summary>
    public string? CredentialDirectory { get; init; }
}

/// <summary>What happened, for the automated test and for the closing summary; keeps the sample eMSP running.</summary>
public sealed class RoamingSession : IAsyncDisposable
{
    public required string Pcid { get; init; }
    public required string Emaid { get; init; }
    public required string ContractSerial { get; init; }
    public required string FirstAuthorization { get; init; }
    public required string EmspAnswer { get; init; }
    public required string SecondAuthorization { get; init; }
    public required string OcspStatus { get; init; }
    public required SampleEmsp Emsp { get; init; }
    public IReadOnlyDictionary<string, (string Cert, string Key)> CredentialFiles { get; init; } = new Dictionary<string, (string, string)>();

    public ValueTask DisposeAsync() => Emsp.DisposeAsync();
}

/// <summary>
/// A Plug &amp; Charge roaming session from the first certificate to the revoked contract, played over the service's
/// real interfaces (REST with mutual TLS, EST, OCPI, OCPP-J, OCSP) by separate actors: the hub operator, an OEM and its
/// car, an eMSP with its own OCPI platform, and a CPO with an OCPP charger of another network.
/// </summary>
public static class RoamingScenario
{
    private const string Iso2Namespace = "urn:iso:15118:2:2013:MsgDef";

    public static async Task<RoamingSession> RunAsync(ServiceConnection service, Timeline t, ScenarioOptions? options = null, CancellationToken ct = default)
    {
        var o = options ?? new ScenarioOptions();
        var provider = o.EmspCountry + o.EmspProviderId;
        using var admin = service.Participant(service.AdminCertificate);
        using var publicHttp = service.Public();
        var files = new Dictionary<string, (string, string)>();

        // ---- 0. The hub operator onboards the three companies ----
        t.Chapter("0. The hub operator onboards an OEM, an eMSP (DE) and a CPO of another network (NL)");
        var oemCert = await OnboardAsync(admin, t, o.OemId, "Oem", o.Wmi, "Sample Motors", ct);
        var emspCert = await OnboardAsync(admin, t, o.EmspId, "Emsp", provider, "Sample eMSP", ct);
        var cpoCert = await OnboardAsync(admin, t, o.CpoId, "Cpo", o.CpoOperatorId, "Green Charge NL", ct);
        if (o.CredentialDirectory != null)
            foreach (var (id, cert) in new[] { (o.OemId, oemCert), (o.EmspId, emspCert), (o.CpoId, cpoCert) }) files[id] = WriteCredential(o.CredentialDirectory, id, cert);
        var v2gRoot = await DownloadCaAsync(publicHttp, "iso2-v2g-root", ct);
        var moRoot = await DownloadCaAsync(publicHttp, "iso2-mo-root", ct);
        foreach (var (root, type) in new[] { (v2gRoot, "V2G"), (moRoot, "MO") })
        {
            var der = root.GetEncoded();
            await t.StepAsync("hub operator", "hub", $"RCP PUT /v1/root/rootCerts ({type} root)",
                () => Http.SendAsync(admin, HttpMethod.Put, "/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(der), rootType = type }, ct, 200, 201, 409),
                r => r.Status == 409 ? $"{type} root already in the root pool" : $"{type} root added to the root pool, fingerprint {Short(r.Body?["RootResponse"]?["fingerprint"])}");
        }

        using var oem = service.Participant(oemCert);
        using var emspApi = service.Participant(emspCert);
        using var cpo = service.Participant(cpoCert);

        // ---- 1. The OEM registers its root and the vehicle's provisioning certificate ----
        t.Chapter("1. The OEM registers its root and uploads the car's provisioning certificate (mutual TLS)");
        var oemRoot = await DownloadCaAsync(publicHttp, "iso2-oem-root", ct);
        await t.StepAsync("OEM", "hub", "RCP PUT /v1/root/rootCerts (OEM root)",
            () => Http.SendAsync(oem, HttpMethod.Put, "/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(oemRoot.GetEncoded()), rootType = "OEM", wmis = new[] { o.Wmi } }, ct, 200, 201, 409),
            r => r.Status == 409 ? "OEM root already registered" : $"OEM root for WMI {o.Wmi} registered");
        var pcid = o.Wmi + RandomCode(14);
        using var carKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var provisioning = await t.StepAsync("OEM", "hub", "EST POST /.well-known/est/oem/simpleenroll/ISO15118-2",
            () => HubCalls.EnrollAsync(oem, "oem", new CertificateRequest($"CN={pcid}, O=Sample Motors, DC=OEM", carKey, HashAlgorithmName.SHA256).CreateSigningRequest(), ct),
            c => $"provisioning certificate for PCID {pcid}, serial {c.SerialNumber.ToString(16)}, issued by '{Cn(c.IssuerDN)}'");
        var oemSubCas = await t.StepAsync("OEM", "hub", "EST GET /.well-known/est/oem/cacerts/ISO15118-2",
            async () => (await HubCalls.CaCertsAsync(publicHttp, "oem", ct)).Where(c => !c.SubjectDN.Equivalent(c.IssuerDN)).ToList(),
            l => $"OEM sub-CA chain: {string.Join(" <- ", l.Select(c => $"'{Cn(c.SubjectDN)}'"))}");
        await t.StepAsync("OEM", "hub", "PCP PUT /v1/oem/provCerts",
            () => Http.SendAsync(oem, HttpMethod.Put, "/v1/oem/provCerts", new
            {
                provisioningCertificate = Convert.ToBase64String(provisioning.GetEncoded()),
                subCA2Certificate = Convert.ToBase64String(oemSubCas[0].GetEncoded()),
                subCA1Certificate = Convert.ToBase64String(oemSubCas[^1].GetEncoded()),
                xsdMsgDefNamespace = Iso2Namespace,
            }, ct),
            _ => $"vehicle {pcid} is in the provisioning certificate pool (chain verified to the OEM root)");
        using var car = new VehicleSimulator(carKey, provisioning.GetEncoded(), oemSubCas.Select(c => c.GetEncoded()).ToList(), [v2gRoot]);

        // ---- 2. The eMSP connects to the hub over OCPI and creates a contract for the car ----
        t.Chapter("2. The eMSP connects its OCPI platform to the hub and creates a contract for the car");
        var emsp = await SampleEmsp.StartAsync(o.EmspCountry, o.EmspProviderId);
        try
        {
            var tokenA = await t.StepAsync("hub operator", "hub", "POST /admin/ocpi/parties (token A)",
                () => PartyTokenAAsync(admin, o.EmspCountry, o.EmspProviderId, provider, ct),
                a => $"party EMSP {o.EmspCountry}-{o.EmspProviderId} {(a.Created ? "created" : "re-admitted")}, provider prefix {provider} routed to it; token A handed over out of band").ConfigureAwait(false);
            string hubParty;
            using (var hubClient = service.Participant(null))
                hubParty = await t.StepAsync("eMSP", "hub", "OCPI 2.3.0 versions, details, POST credentials",
                    () => emsp.ConnectAsync(hubClient, service.HttpsBaseUrl + "/ocpi/versions", tokenA.Token, ct),
                    hub => $"registered: the hub ({hub}) called back our versions at {emsp.VersionsUrl} with token B and answered token C");
            // The hub's own chargers authorize as the hub's CPO side (hub_party_id): the pair the agreement is for.
            var hubCpo = hubParty.Replace("*", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
            await t.StepAsync("hub operator", "hub", "POST /admin/ocpi/agreements (roaming agreement)",
                () => AgreementAsync(admin, hubCpo[..2], hubCpo[2..], o.EmspCountry, o.EmspProviderId, ct),
                a => $"agreement {a.Id} {(a.Created ? "recorded" : "in force already")}: CPO {hubCpo[..2]}-{hubCpo[2..]} (the hub's chargers) and eMSP " +
                    $"{o.EmspCountry}-{o.EmspProviderId} roam for tokens, real-time authorization and Plug & Charge");
            var contract = await t.StepAsync("eMSP", "hub", "POST /v1/contracts (mint EMAID, issue certificate)",
                async () => (await Http.SendAsync(emspApi, HttpMethod.Post, "/v1/contracts", new { pcid, providerId = provider, @default = true }, ct)).Body!,
                c => $"contract {c["emaid"]} bound to {pcid} as default; contract certificate serial {c["certificate"]?["serial"]}");
            var emaid = contract["emaid"]!.GetValue<string>();
            emsp.ActiveContracts[emaid] = true;

            // ---- 3. A charger on the CPO's network forwards the car's CertificateInstallationReq ----
            t.Chapter("3. The car plugs in at a charger of the NL network; the charger forwards its CertificateInstallationReq over OCPP");
            var password = await t.StepAsync("CPO", "hub", "POST /v1/ocpp/stations (security profile 2)",
                () => RegisterStationAsync(cpo, o.StationId, ct),
                _ => $"station {o.StationId} registered to {o.CpoOperatorId}; the hub generated its password, answered it once and keeps only a keyed hash");
            var wss = "wss" + service.HttpsBaseUrl[5..] + "/ocpp";
            await using var charger = await t.StepAsync("charger", "hub", "OCPP-J WebSocket connect (TLS + basic auth)",
                () => NodeCharger.ConnectAsync(wss, o.StationId, password, service.ParticipantCaPem, ct: ct),
                c => $"connected to {wss}/{o.StationId} with subprotocol {c.Protocol} (npm ocpp-rpc)");
            await t.StepAsync("charger", "hub", "BootNotification",
                () => charger.CallAsync("BootNotification", new { reason = "PowerUp", chargingStation = new { model = "Sample AC 22", vendorName = "Sample Chargers" } }, ct),
                r => $"status {r["status"]}, heartbeat every {r["interval"]} s");
            var request = t.Local("car", "builds and signs CertificateInstallationReq", () => car.BuildInstallationRequest(),
                exi => $"{exi.Length} bytes of EXI, signed with the provisioning key of {pcid}, trusting V2G root '{Cn(v2gRoot.SubjectDN)}'");
            var response = await t.StepAsync("charger", "hub", "Get15118EVCertificate (Install, ISO 15118-2)",
                () => charger.CallAsync("Get15118EVCertificate", new { iso15118SchemaVersion = Iso2Namespace, action = "Install", exiRequest = Convert.ToBase64String(request) }, ct),
                r => $"status {r["status"]}, exiResponse {r["exiResponse"]?.GetValue<string>().Length} base64 characters (CertificateInstallationRes)");

            // ---- 4. The car checks the answer and takes its contract ----
            t.Chapter("4. The car verifies the CPS signature up to its V2G root and decrypts its contract key");
            using var installed = t.Local("car", "verifies CertificateInstallationRes",
                () => car.AcceptIso2Response(Convert.FromBase64String(response["exiResponse"]!.GetValue<string>())),
                c => $"CPS signature and chain to '{Cn(v2gRoot.SubjectDN)}' valid; contract key decrypted (ECDH + KDF + AES-128-CBC) and matches the certificate of {c.Emaid}");
            if (!string.Equals(installed.Emaid, emaid, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"The car received contract {installed.Emaid}, expected {emaid}.");

            // ---- 5. The charger authorizes with the contract; the hub asks the driver's eMSP ----
            t.Chapter("5. The charger authorizes with the contract certificate; the hub checks it and asks the eMSP in real time");
            var chainPem = string.Concat(new[] { installed.Certificate }.Concat(installed.SubCertificates).Select(d => PemEncoding.WriteString("CERTIFICATE", d) + "\n"));
            var before = emsp.Authorizations.Count;
            var first = await t.StepAsync("charger", "hub", "Authorize (eMAID + contract certificate chain)",
                () => AuthorizeAsync(charger, emaid, chainPem, ct),
                a => $"idTokenInfo.status {a.Token}, certificateStatus {a.Certificate}");
            var emspAnswer = emsp.Authorizations.Skip(before).Select(a => a.Allowed).LastOrDefault() ?? "(not asked)";
            t.Note("hub -> eMSP", $"inside that Authorize: the hub validated the chain to the MO root and its revocation, then relayed OCPI POST tokens/{emaid}/authorize to the eMSP's platform, which answered {emspAnswer}");
            t.Note("charger", first.Token == "Accepted" ? "starts the charging session: energy flows, no card, no app" : "refuses to charge: " + first.Token);

            // ---- 6. The eMSP ends the contract ----
            t.Chapter("6. The eMSP terminates the contract: the certificate is revoked, the next Authorize is refused, OCSP says revoked");
            await t.StepAsync("eMSP", "hub", $"DELETE /v1/contracts/{emaid}",
                () => Http.SendAsync(emspApi, HttpMethod.Delete, $"/v1/contracts/{emaid}?reason=cessationOfOperation", null, ct),
                r => $"contract {r.Body?["state"] ?? "terminated"}; its certificate revoked (cessationOfOperation)");
            emsp.ActiveContracts.TryRemove(emaid, out _);
            var second = await t.StepAsync("charger", "hub", "Authorize (same contract)",
                () => AuthorizeAsync(charger, emaid, chainPem, ct),
                a => $"idTokenInfo.status {a.Token}, certificateStatus {a.Certificate}");
            var leaf = ReadCertificate(installed.Certificate);
            var ocsp = await t.StepAsync("charger", "hub", "GetCertificateStatus (OCSP for the contract certificate)",
                () => CertificateStatusAsync(charger, leaf, ReadCertificate(installed.SubCertificates[0]), ct),
                s => $"our OCSP responder says: {s}");

            return new RoamingSession
            {
                Pcid = pcid, Emaid = emaid, ContractSerial = leaf.SerialNumber.ToString(16), FirstAuthorization = $"{first.Token}/{first.Certificate}",
                EmspAnswer = emspAnswer, SecondAuthorization = $"{second.Token}/{second.Certificate}", OcspStatus = ocsp, Emsp = emsp, CredentialFiles = files,
            };
        }
        catch
        {
            await emsp.DisposeAsync();
            throw;
        }
    }

    // ---- the actors' calls ----

    /// <summary>Registers a participant (or finds it registered) and issues it a fresh mutual-TLS client certificate.</summary>
    private static Task<X509Certificate2> OnboardAsync(HttpClient admin, Timeline t, string id, string role, string identity, string organization, CancellationToken ct) =>
        t.StepAsync("hub operator", "hub", $"POST /v1/participants ({role}) + client certificate",
            () => HubCalls.OnboardAsync(admin, id, role, identity, organization, ct),
            c => $"{organization} ({identity}) may call the API with client certificate {c.Thumbprint[..16]}...");

    private static async Task<(string Token, bool Created)> PartyTokenAAsync(HttpClient admin, string country, string partyId, string provider, CancellationToken ct)
    {
        var list = await Http.GetJsonAsync(admin, "/admin/ocpi/parties", ct);
        var existing = list.AsArray().FirstOrDefault(p => p!["roles"]!.AsArray().Any(r =>
            string.Equals(r!["countryCode"]?.ToString(), country, StringComparison.OrdinalIgnoreCase) && string.Equals(r["partyId"]?.ToString(), partyId, StringComparison.OrdinalIgnoreCase)));
        if (existing == null)
        {
            var created = await Http.SendAsync(admin, HttpMethod.Post, "/admin/ocpi/parties",
                new { name = "Sample eMSP", roles = new[] { new { role = "EMSP", countryCode = country, partyId } }, providerPrefixes = new[] { provider } }, ct);
            return (created.Body!["tokenA"]!.GetValue<string>(), true);
        }
        // A previous run's platform is gone with its token C: the operator cuts those credentials off and re-admits it.
        var id = existing["id"]!.GetValue<string>();
        var reset = await Http.SendAsync(admin, HttpMethod.Post, $"/admin/ocpi/parties/{id}/revoke-credentials", null, ct);
        await Http.SendAsync(admin, HttpMethod.Put, $"/admin/ocpi/parties/{id}/provider-prefixes", new { providerPrefixes = new[] { provider } }, ct);
        return (reset.Body!["tokenA"]!.GetValue<string>(), false);
    }

    /// <summary>The pair's active agreement, recorded unless an earlier run did (a suspended one is made active again).</summary>
    private static async Task<(string Id, bool Created)> AgreementAsync(HttpClient admin, string cpoCountry, string cpoParty, string emspCountry, string emspParty,
        CancellationToken ct)
    {
        var cpo = $"{cpoCountry}-{cpoParty}";
        var emsp = $"{emspCountry}-{emspParty}";
        var list = await Http.GetJsonAsync(admin, $"/admin/ocpi/agreements?cpo={cpo}&emsp={emsp}", ct);
        if (list.AsArray().FirstOrDefault(a => a!["status"]!.GetValue<string>() != "ended") is { } existing)
        {
            var id = existing["id"]!.GetValue<string>();
            if (existing["status"]!.GetValue<string>() != "active") await Http.SendAsync(admin, HttpMethod.Post, $"/admin/ocpi/agreements/{id}/resume", null, ct);
            return (id, false);
        }
        var created = await Http.SendAsync(admin, HttpMethod.Post, "/admin/ocpi/agreements", new
        {
            cpo = new { countryCode = cpoCountry, partyId = cpoParty }, emsp = new { countryCode = emspCountry, partyId = emspParty },
            scopes = new[] { "tokens", "real-time-authorization", "plug-and-charge" },
        }, ct, 201);
        return (created.Body!["id"]!.GetValue<string>(), true);
    }

    /// <summary>Registers the station and returns the password the hub generated for it (answered only at registration).</summary>
    private static async Task<string> RegisterStationAsync(HttpClient cpo, string stationId, CancellationToken ct)
    {
        var body = new { stationId, securityProfile = 2, serialNumber = "SN-" + stationId };
        var (status, created) = await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", body, ct, 201, 409);
        if (status == 409)
        {
            // Registered by an earlier run, whose password is gone with it: register it afresh.
            await Http.SendAsync(cpo, HttpMethod.Delete, $"/v1/ocpp/stations/{stationId}", null, ct);
            created = (await Http.SendAsync(cpo, HttpMethod.Post, "/v1/ocpp/stations", body, ct, 201)).Body;
        }
        return created!["password"]!.GetValue<string>();
    }

    private static async Task<(string Token, string Certificate)> AuthorizeAsync(NodeCharger charger, string emaid, string chainPem, CancellationToken ct)
    {
        var r = await charger.CallAsync("Authorize", new { idToken = new { idToken = emaid, type = "eMAID" }, certificate = chainPem }, ct);
        return (r["idTokenInfo"]?["status"]?.ToString() ?? "?", r["certificateStatus"]?.ToString() ?? "-");
    }

    /// <summary>OCPP GetCertificateStatus with the certificate's CertID and its AIA OCSP URL; reads the OCSPResponse the hub relays.</summary>
    private static async Task<string> CertificateStatusAsync(NodeCharger charger, BcCertificate leaf, BcCertificate issuer, CancellationToken ct)
    {
        var (nameHash, keyHash, serial) = CertificateHashes.Of(leaf, issuer);
        var r = await charger.CallAsync("GetCertificateStatus", new
        {
            ocspRequestData = new { hashAlgorithm = "SHA256", issuerNameHash = nameHash, issuerKeyHash = keyHash, serialNumber = serial, responderURL = OcspUrl(leaf) },
        }, ct);
        if (r["status"]?.ToString() != "Accepted") return "no answer (" + r["status"] + ")";
        var basic = (BasicOcspResp)new OcspResp(Convert.FromBase64String(r["ocspResult"]!.GetValue<string>())).GetResponseObject();
        return basic.Responses[0].GetCertStatus() switch
        {
            null => "good",
            RevokedStatus revoked => string.Create(CultureInfo.InvariantCulture,
                $"revoked at {revoked.RevocationTime:yyyy-MM-dd HH:mm:ss}Z, reason {(revoked.HasRevocationReason ? ((PlugAndCharge.Pki.Revocation.RevocationReason)revoked.RevocationReason).ToString() : "unspecified")}"),
            _ => "unknown",
        };
    }

    private static async Task<BcCertificate> DownloadCaAsync(HttpClient publicHttp, string ca, CancellationToken ct) =>
        ReadCertificate(await publicHttp.GetByteArrayAsync($"/ca/{ca}.der", ct));

    private static BcCertificate ReadCertificate(byte[] der) => new(der);

    private static string OcspUrl(BcCertificate cert)
    {
        var aia = AuthorityInformationAccess.GetInstance(X509ExtensionUtilities.FromExtensionValue(cert.GetExtensionValue(X509Extensions.AuthorityInfoAccess)));
        return aia.GetAccessDescriptions().First(d => d.AccessMethod.Equals(AccessDescription.IdADOcsp)).AccessLocation.Name.ToString()!;
    }

    private static (string Cert, string Key) WriteCredential(string dir, string id, X509Certificate2 cert)
    {
        Directory.CreateDirectory(dir);
        var (certFile, keyFile) = (Path.Combine(dir, id + ".crt"), Path.Combine(dir, id + ".key"));
        File.WriteAllText(certFile, cert.ExportCertificatePem() + "\n");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var w = new StreamWriter(new FileStream(keyFile, options)))
            w.Write(cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }

    private static string RandomCode(int length)
    {
        const string alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
        return string.Create(length, alphabet, (span, a) => { for (var i = 0; i < span.Length; i++) span[i] = a[RandomNumberGenerator.GetInt32(a.Length)]; });
    }

    private static string Cn(X509Name name) => name.GetValueList(X509Name.CN).FirstOrDefault() ?? name.ToString();

    private static string Short(JsonNode? fingerprint) => fingerprint?.ToString() is { Length: > 16 } f ? f[..16] + "..." : fingerprint?.ToString() ?? "";
}
