using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace PlugAndCharge.Server.Tests.OpenApi;

/// <summary>
/// Checks every JSON answer a test receives from the service against the service's own /openapi/v1.json: a success
/// or problem-details body of a documented operation must have its status documented and match its schema, else the
/// request fails with <see cref="ApiConformanceException"/> and so does the test that made it. Every HttpClient of
/// <see cref="Hosting.ServiceFixture"/> goes through it, so the whole suite checks the description.
/// </summary>
public sealed class ConformanceCheckingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The description each server serves, by scheme and authority; null for a host without one (the OCSP test host).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<ApiDescription?>>> Descriptions = new();

    /// <summary>Answers checked so far, by "METHOD template status": what the suite covers.</summary>
    public static ConcurrentDictionary<string, int> Checked { get; } = new();

    static ConformanceCheckingHandler()
    {
        // PNC_OPENAPI_COVERAGE=file: the checked answers are written there when the test run ends, to see which routes no test reaches.
        if (Environment.GetEnvironmentVariable("PNC_OPENAPI_COVERAGE") is { Length: > 0 } file)
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                File.WriteAllLines(file, Checked.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}\t{c.Value}"));
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri is not { } uri || !IsJson(response.Content.Headers.ContentType)) return response;
        var description = await DescriptionAsync(uri, cancellationToken);
        if (description?.Find(request.Method.Method, uri.AbsolutePath) is not { } found) return response;
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var problems = description.Check(request.Method.Method, found.Template, found.Operation, (int)response.StatusCode, body);
        if (problems.Count > 0)
            throw new ApiConformanceException($"{request.Method} {uri.PathAndQuery} answered {(int)response.StatusCode} outside /openapi/v1.json:\n  "
                + string.Join("\n  ", problems) + "\nbody: " + (body.Length > 2000 ? body[..2000] + "..." : body));
        Checked.AddOrUpdate($"{request.Method.Method} {found.Template} {(int)response.StatusCode}", 1, (_, n) => n + 1);
        return response;
    }

    private static bool IsJson(MediaTypeHeaderValue? type) =>
        type?.MediaType is "application/json" or "application/problem+json";

    private async Task<ApiDescription?> DescriptionAsync(Uri uri, CancellationToken ct)
    {
        var server = uri.GetLeftPart(UriPartial.Authority);
        var loading = Descriptions.GetOrAdd(server, s => new Lazy<Task<ApiDescription?>>(() => LoadAsync(s)));
        try { return await loading.Value.WaitAsync(ct); }
        catch (HttpRequestException)
        {
            // The server went away (a test stopping an instance): nothing to check against; ask again next time.
            Descriptions.TryRemove(new KeyValuePair<string, Lazy<Task<ApiDescription?>>>(server, loading));
            return null;
        }
    }

    private async Task<ApiDescription?> LoadAsync(string server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, server + "/openapi/v1.json");
        using var response = await base.SendAsync(request, CancellationToken.None);
        if (!response.IsSuccessStatusCode) return null;
        return new ApiDescription(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }
}

/// <summary>An answer of the service that its OpenAPI document does not describe.</summary>
public sealed class ApiConformanceException(string message) : Exception(message);
