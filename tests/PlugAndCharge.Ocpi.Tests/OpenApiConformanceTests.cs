using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

/// <summary>The validator itself: it must reject what the official OpenAPI forbids, or the conformance checks prove nothing.</summary>
public sealed class OpenApiConformanceTests
{
    private static readonly Dictionary<string, string> Headers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Authorization"] = "Token dG9rZW4=", ["X-Request-ID"] = Guid.NewGuid().ToString(), ["X-Correlation-ID"] = Guid.NewGuid().ToString(),
    };

    private static Exchange Authorize(string version, string type, string responseBody, int status = 200, Dictionary<string, string>? responseHeaders = null) =>
        new("POST", new Uri($"http://127.0.0.1/ocpi/{version}/sender/tokens/DE8ACC12345678X/authorize?type={type}"), Headers, "", status,
            responseHeaders ?? Headers, responseBody, "test");

    private const string Token221Emaid = """{"country_code":"DE","party_id":"8AC","uid":"DE8ACC12345678X","type":"EMAID","contract_id":"DE8ACC12345678X","issuer":"x","valid":true,"whitelist":"NEVER","last_updated":"2026-01-01T00:00:00Z"}""";

    [Fact]
    public void A_conformant_answer_passes()
    {
        var ok = Authorize("2.3.0", "EMAID", $$"""{"data":{"allowed":"ALLOWED","token":{{Token221Emaid}}},"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""");
        Assert.Empty(OpenApiConformance.Shared.Check(ok));
    }

    [Fact]
    public void Violations_are_found()
    {
        var c = OpenApiConformance.Shared;
        // 2.2.1 has no token type EMAID.
        Assert.NotEmpty(c.Check(Authorize("2.2.1", "OTHER", $$"""{"data":{"allowed":"ALLOWED","token":{{Token221Emaid}}},"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""")));
        // AllowedType is a closed enum.
        Assert.NotEmpty(c.Check(Authorize("2.3.0", "EMAID", $$"""{"data":{"allowed":"MAYBE","token":{{Token221Emaid}}},"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""")));
        // The envelope needs a timestamp.
        Assert.NotEmpty(c.Check(Authorize("2.3.0", "EMAID", """{"status_code":1000}""")));
        // A status the operation does not document.
        Assert.NotEmpty(c.Check(Authorize("2.3.0", "EMAID", """{"status_code":3000,"timestamp":"2026-01-01T00:00:00Z"}""", status: 500)));
        // Responses must carry X-Request-ID and X-Correlation-ID.
        Assert.NotEmpty(c.Check(Authorize("2.3.0", "EMAID", """{"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}""", responseHeaders: [])));
    }
}
