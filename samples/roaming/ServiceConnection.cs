using System.Net.Http.Json;
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
        var handler = new HttpClientHandler { ClientCertificateOptions = ClientCertificateOption.Manual };
        if (clientCertificate != null) handler.ClientCertificates.Add(clientCertificate);
        var ca = ParticipantCa;
        handler.ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
        {
            if (cert == null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(cert);
        };
        return new HttpClient(handler) { BaseAddress = new Uri(HttpsBaseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A plain HTTP client for the public revocation and publication endpoints.</summary>
    public HttpClient Public() => new() { BaseAddress = new Uri(HttpBaseUrl), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The participant CA as PEM, for clients (the node charger) that take their trust that way.</summary>
    public string ParticipantCaPem => ParticipantCa.ExportCertificatePem();
}

/// <summary>An HTTP answer the scenario did not expect, with the problem details the service sent.</summary>
public sealed class ScenarioHttpException(string message) : Exception(message);

internal static class Http
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
internal static class Credentials
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
