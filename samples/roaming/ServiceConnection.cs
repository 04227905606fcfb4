using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PlugAndCharge.Samples.Roaming;

/// <summary>
/// Where the running service is and how to reach it: its public HTTP base (OCSP, CRLs, CA certificates), its HTTPS base
/// for participants, the participant CA that certifies its TLS certificate, and the hub operator's client certificate.
/// </summary>
public sealed record ServiceConnection(string HttpBaseUrl, string HttpsBaseUrl, X509Certificate2 ParticipantCa, X509Certificate2 AdminCertificate)
{
    /// <summary>An HTTPS client that trusts only the participant CA and presents <paramref name="clientCertificate"/> (mutual TLS).</summary>
    public HttpClient Participant(X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions =
            {
                ClientCertificateContext = ClientContext(clientCertificate),
                CertificateChainPolicy = TrustOnly(ParticipantCa),
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(HttpsBaseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// The client certificate as sent in the handshake, its chain built offline. Given only the certificate, .NET builds
    /// its chain for every new connection and fetches the missing issuer from the certificate's AIA URL, synchronously, on
    /// a thread-pool thread: the hub's own /ca endpoint. The fault suite found it: while the database was silent, those
    /// fetches blocked the load generator's threads, and its requests looked hung though the service had answered.
    /// </summary>
    public static SslStreamCertificateContext? ClientContext(X509Certificate2? certificate) =>
        certificate == null ? null : SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);

    /// <summary>
    /// Trusts <paramref name="ca"/> alone and never fetches a missing issuer from a certificate's AIA URL: .NET would do
    /// that synchronously inside the TLS handshake, on a thread-pool thread, for every new connection.
    /// </summary>
    public static X509ChainPolicy TrustOnly(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(ca);
        return policy;
    }

    /// <summary>A plain HTTP client for the public revocation and publication endpoints.</summary>
    public HttpClient Public() => new() { BaseAddress = new Uri(HttpBaseUrl), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The participant CA as PEM, for clients (the node charger) that take their trust that way.</summary>
    public string ParticipantCaPem => ParticipantCa.ExportCertificatePem();
}

/// <summary>An HTTP answer the scenario did not expect, with the problem details the service sent.</summary>
public sealed class ScenarioHttpException(string message) : Exception(message);

public static class Http
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Sends JSON, returns the JSON answer; any status not in <paramref name="accepted"/> throws with the problem detail.</summary>
    public static async Task<(int Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body, CancellationToken ct, params int[] accepted)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body != null) request.Content = JsonContent.Create(body, options: Json);
        using var response = await client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var status = (int)response.StatusCode;
        JsonNode? json = null;
        try { json = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text); } catch (JsonException) { }
        if (accepted.Length == 0 ? !response.IsSuccessStatusCode : !accepted.Contains(status))
            throw new ScenarioHttpException($"{method} {path} answered {status}: {json?["detail"] ?? json?["title"] ?? text}");
        return (status, json);
    }

    public static async Task<JsonNode> GetJsonAsync(HttpClient client, string path, CancellationToken ct) =>
        (await SendAsync(client, HttpMethod.Get, path, null, ct)).Body ?? throw new ScenarioHttpException($"GET {path} answered no body.");
}

/// <summary>Key pairs and certificates the actors make for themselves.</summary>
public static class Credentials
{
    public static X509Certificate2 WithKey(string certificatePem, ECDsa key)
    {
        using var cert = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = cert.CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a certificate whose key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public static string FirstPem(string pemChain)
    {
        var end = pemChain.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal);
        return end < 0 ? pemChain : pemChain[..(end + "-----END CERTIFICATE-----".Length)];
    }
}

/// <summary>The hub's onboarding and enrollment calls, as any participant tool makes them (the scenario, the fault suite).</summary>
public static class HubCalls
{
    /// <summary>Registers a participant (or finds it registered) and issues it a fresh mutual-TLS client certificate.</summary>
    public static async Task<X509Certificate2> OnboardAsync(HttpClient admin, string id, string role, string identity, string organization, CancellationToken ct)
    {
        await Http.SendAsync(admin, HttpMethod.Post, "/v1/participants", new { id, name = organization, role, identities = new[] { identity }, organization }, ct, 201, 409);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={id}, O={organization}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var issued = await Http.SendAsync(admin, HttpMethod.Post, $"/v1/participants/{id}/certificates", new { csr }, ct);
        return Credentials.WithKey(Credentials.FirstPem(issued.Body!["pem"]!.GetValue<string>()), key);
    }

    /// <summary>EST simpleenroll (RFC 7030 §4.2) of a PKCS#10 request at one of the hub's CAs for ISO 15118-2.</summary>
    public static async Task<Org.BouncyCastle.X509.X509Certificate> EnrollAsync(HttpClient client, string ca, byte[] csr, CancellationToken ct)
    {
        using var content = new StringContent(Convert.ToBase64String(csr), System.Text.Encoding.ASCII);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pkcs10");
        using var response = await client.PostAsync($"/.well-known/est/{ca}/simpleenroll/ISO15118-2", content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new ScenarioHttpException($"EST simpleenroll answered {(int)response.StatusCode}: {text}");
        return Pkcs7Certificates(text)[0];
    }

    /// <summary>EST cacerts (RFC 7030 §4.1) of one of the hub's CAs for ISO 15118-2.</summary>
    public static async Task<IReadOnlyList<Org.BouncyCastle.X509.X509Certificate>> CaCertsAsync(HttpClient client, string ca, CancellationToken ct) =>
        Pkcs7Certificates(await client.GetStringAsync($"/.well-known/est/{ca}/cacerts/ISO15118-2", ct));

    private static List<Org.BouncyCastle.X509.X509Certificate> Pkcs7Certificates(string base64) =>
        new Org.BouncyCastle.Cms.CmsSignedData(Convert.FromBase64String(string.Concat(base64.Where(c => !char.IsWhiteSpace(c))))).GetCertificates().EnumerateMatches(null).ToList();
}
