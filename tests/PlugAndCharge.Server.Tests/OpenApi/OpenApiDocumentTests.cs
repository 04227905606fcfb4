using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.OpenApi;

/// <summary>
/// /openapi/v1.json describes every route of the service's own API with the bodies it answers. Every answer the rest
/// of the suite receives is checked against it (<see cref="ConformanceCheckingHandler"/>); these tests check the
/// document against the routes themselves. The OCPI protocol (/ocpi) and the OCPP WebSocket (/ocpp) follow their own
/// specifications and are checked against those in their own suites.
/// </summary>
public sealed class OpenApiDocumentTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static readonly string[] OtherSpecifications = ["/ocpi", "/ocpp", "/openapi"];

    private async Task<ApiDescription> DescriptionAsync()
    {
        using var anonymous = f.Client(null);
        return new ApiDescription((await anonymous.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!);
    }

    /// <summary>Each route of our API, by method and the path template the document uses.</summary>
    private IEnumerable<(string Method, string Template, RouteEndpoint Endpoint)> ApiRoutes() =>
        ((IEndpointRouteBuilder)f.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => !OtherSpecifications.Any(prefix => ("/" + e.RoutePattern.RawText!.TrimStart('/')).StartsWith(prefix, StringComparison.Ordinal)))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (m, Template(e), e)));

    private static string Template(RouteEndpoint e)
    {
        var raw = "/" + e.RoutePattern.RawText!.Trim('/');
        return raw.Replace("{**", "{", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_route_declares_its_answers_and_the_document_describes_them()
    {
        var description = await DescriptionAsync();
        var paths = description.Document["paths"]!.AsObject();
        var missing = new List<string>();
        var routes = ApiRoutes().ToList();
        Assert.True(routes.Count > 60, $"only {routes.Count} routes found");
        foreach (var (method, template, endpoint) in routes)
        {
            var name = $"{method} {template}";
            // A handler returning IResult (Results.Ok(new { ... })) declares nothing: its answers are invisible to clients.
            var declared = endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>();
            if (!declared.Any(d => d.StatusCode is >= 200 and < 300))
                missing.Add($"{name}: the handler declares no success answer (return TypedResults with a response record)");
            if (paths[template]?[method.ToLowerInvariant()] is not JsonObject operation)
            {
                missing.Add($"{name}: not in /openapi/v1.json");
                continue;
            }
            var responses = operation["responses"]?.AsObject() ?? [];
            foreach (var d in declared.Where(d => d.StatusCode is >= 200 and < 300 && d.Type is { } t && t != typeof(void)))
            {
                var schema = responses[d.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)]?["content"]?.AsObject()
                    .Select(c => c.Value?["schema"] as JsonObject).FirstOrDefault(s => s != null);
                if (schema == null || schema.Count == 0)
                    missing.Add($"{name}: {d.StatusCode} has no schema for its {d.Type!.Name} body");
                else if (d.Type == typeof(object))
                    missing.Add($"{name}: {d.StatusCode} answers an untyped object (declare a response record)");
            }
        }
        Assert.True(missing.Count == 0, "Routes the OpenAPI document does not describe:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task Every_documented_json_schema_compiles_and_names_its_fields()
    {
        var description = await DescriptionAsync();
        var problems = new List<string>();
        foreach (var (method, template, operation) in description.Operations)
            foreach (var (status, response) in operation["responses"]?.AsObject() ?? [])
                foreach (var (mediaType, content) in response?["content"]?.AsObject() ?? [])
                {
                    if (!mediaType.Contains("json", StringComparison.Ordinal)) continue;
                    if (content?["schema"] is not JsonObject schema || schema.Count == 0) { problems.Add($"{method} {template} {status}: no schema"); continue; }
                    try { _ = description.Compile(schema); }
                    catch (Exception e) { problems.Add($"{method} {template} {status}: {e.Message}"); }
                }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>A few answers checked here, so this class alone shows the checker at work; the suite checks all the others.</summary>
    [Fact]
    public async Task Answers_match_the_document()
    {
        using var admin = f.Client(f.AdminCertificate);
        using var anonymous = f.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/participants")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/participants/admin")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/cps/signer")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/root/rootCerts")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/ocpp/stations")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/ocpi/parties")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/ocpi/parties/nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/v1/contracts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/oauth/token",
            new { grant_type = "client_credentials", client_id = "nobody", client_secret = "wrong" })).StatusCode);
        var client = await (await admin.PostAsync("/v1/participants/admin/oauth-clients", null)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.PostAsJsonAsync("/oauth/token",
            new { grant_type = "client_credentials", client_id = (string)client!["client_id"]!, client_secret = (string)client["client_secret"]! })).StatusCode);

        // Routes the rest of the suite does not reach with a JSON answer.
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=admin", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSigningRequestPem();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/v1/participants/admin/certificates", new { csr })).StatusCode);
        var partyId = "O" + Guid.NewGuid().ToString("N")[..2].ToUpperInvariant();
        using var created = await admin.PostAsJsonAsync("/admin/ocpi/parties", new { name = "OpenAPI", roles = new[] { new { role = "EMSP", countryCode = "NL", partyId } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["party"]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/ocpi/parties/{id}/token-a", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/admin/ocpi/parties/{id}/provider-prefixes", new { providerPrefixes = new[] { "NL" + partyId } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/ocpi/parties/{id}/revoke-credentials", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/ocpi/parties/{id}/suspend", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/admin/ocpi/liveness-check", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/admin/ocpi/parties", new { name = "", roles = Array.Empty<object>() })).StatusCode);

        Assert.Contains("GET /v1/participants/{id} 200", ConformanceCheckingHandler.Checked.Keys);
        Assert.Contains("POST /oauth/token 401", ConformanceCheckingHandler.Checked.Keys);
    }
}
