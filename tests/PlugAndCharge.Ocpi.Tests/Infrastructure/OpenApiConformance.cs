using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;

namespace PlugAndCharge.Ocpi.Tests.Infrastructure;

/// <summary>
/// Checks captured OCPI exchanges against the official OpenAPI (OCPI 2.2.1 / 2.3.0, bundled per module and interface):
/// the operation must exist, required headers and parameters must be present and match their schemas, the request body
/// and the response body of the returned status must validate (NJsonSchema), and the status must be documented.
/// URLs follow the layout hub and test parties share: /ocpi/versions, /ocpi/{v}/details, /ocpi/{v}/credentials,
/// /ocpi/{v}/{sender|receiver}/{module}/...
/// </summary>
public sealed class OpenApiConformance(string directory)
{
    public static OpenApiConformance Shared { get; } = new(Path.Combine(AppContext.BaseDirectory, "OpenApi"));

    private readonly ConcurrentDictionary<string, JsonObject> _documents = new();
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new();

    public IReadOnlyList<string> Check(Exchange e)
    {
        var problems = new List<string>();
        var located = Locate(e.Url);
        if (located is null) { problems.Add("no OCPI interface for this URL"); return problems; }
        var (file, path) = located.Value;
        var doc = Document(file);
        if (doc is null) { problems.Add($"no OpenAPI file {file}"); return problems; }
        var paths = doc["paths"]!.AsObject();
        var template = paths.Select(p => p.Key).FirstOrDefault(t => Matches(t, path));
        if (template is null) { problems.Add($"{file} has no path matching {path}"); return problems; }
        if (paths[template]![e.Method.ToLowerInvariant()] is not JsonObject op) { problems.Add($"{file} {template} has no {e.Method}"); return problems; }
        var key = $"{file}#{template}#{e.Method}";

        // Request: credentials token, header and query parameters, body.
        if (!e.RequestHeaders.TryGetValue("Authorization", out var auth) || !auth.StartsWith("Token ", StringComparison.Ordinal))
            problems.Add("request without 'Authorization: Token ...'");
        var query = ParseQuery(e.Url.Query);
        foreach (var p in op["parameters"]?.AsArray() ?? [])
        {
            var name = p!["name"]!.GetValue<string>();
            var where = p["in"]!.GetValue<string>();
            var required = p["required"]?.GetValue<bool>() ?? false;
            string? value = where switch
            {
                "header" => e.RequestHeaders.TryGetValue(name, out var h) ? h : null,
                "query" => query.TryGetValue(name, out var q) ? q : null,
                _ => "",
            };
            if (value is null) { if (required) problems.Add($"request lacks required {where} parameter {name}"); continue; }
            if (where is "header" or "query" && p["schema"] is JsonObject ps)
                foreach (var err in Validate($"{key}#param:{name}", ps, ScalarJson(value, ps))) problems.Add($"{where} {name}='{value}': {err}");
        }
        if (op["requestBody"] is JsonObject rb)
        {
            var schema = rb["content"]?["application/json"]?["schema"] as JsonObject;
            if (e.RequestBody.Length == 0) { if (rb["required"]?.GetValue<bool>() == true) problems.Add("request body is required"); }
            else if (schema != null) foreach (var err in Validate($"{key}#request", schema, e.RequestBody)) problems.Add($"request body: {err}");
        }

        // Response: documented status, required headers, body.
        if (op["responses"]?[e.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] is not JsonObject response)
        {
            problems.Add($"status {e.Status} is not documented for {e.Method} {template}");
            return problems;
        }
        foreach (var (name, h) in response["headers"]?.AsObject() ?? [])
        {
            var present = e.ResponseHeaders.TryGetValue(name, out var value);
            if (!present) { if (h?["required"]?.GetValue<bool>() == true) problems.Add($"response lacks required header {name}"); continue; }
            if (h?["schema"] is JsonObject hs)
                foreach (var err in Validate($"{key}#{e.Status}#header:{name}", hs, ScalarJson(value!, hs))) problems.Add($"response header {name}='{value}': {err}");
        }
        if (response["content"]?["application/json"]?["schema"] is JsonObject rs)
        {
            if (e.ResponseBody.Length == 0) problems.Add("response body is empty");
            else foreach (var err in Validate($"{key}#{e.Status}", rs, e.ResponseBody)) problems.Add($"response body: {err}");
        }
        return problems;
    }

    private static (string File, string Path)? Locate(Uri url)
    {
        var segments = url.AbsolutePath.Trim('/').Split('/');
        var i = Array.IndexOf(segments, "ocpi");
        if (i < 0) return null;
        var s = segments[(i + 1)..];
        return s switch
        {
            ["versions"] => ("ocpi-2.3.0-versions-interface.json", "/versions"),
            [var v, "details"] => ($"ocpi-{v}-versions-interface.json", $"/versions/{v}"),
            [var v, "credentials"] => ($"ocpi-{v}-credentials-interface.json", "/credentials"),
            [var v, var iface, var module, .. var rest] when iface is "sender" or "receiver" =>
                ($"ocpi-{v}-{module}-{iface}-interface.json", "/" + string.Join('/', new[] { module }.Concat(rest.Select(Uri.UnescapeDataString)))),
            _ => null,
        };
    }

    private static bool Matches(string template, string path)
    {
        var t = template.Trim('/').Split('/');
        var p = path.Trim('/').Split('/');
        if (t.Length != p.Length) return false;
        for (var i = 0; i < t.Length; i++)
        {
            if (t[i].StartsWith('{')) { if (p[i].Length == 0) return false; }
            else if (t[i] != p[i]) return false;
        }
        return true;
    }

    private JsonObject? Document(string file) =>
        File.Exists(Path.Combine(directory, file)) ? _documents.GetOrAdd(file, f => JsonNode.Parse(File.ReadAllText(Path.Combine(directory, f)))!.AsObject()) : null;

    private IEnumerable<string> Validate(string key, JsonObject schema, string json)
    {
        var compiled = _schemas.GetOrAdd(key, _ => JsonSchema.FromJsonAsync(Annotationless(schema.DeepClone()).ToJsonString()).GetAwaiter().GetResult());
        ICollection<NJsonSchema.Validation.ValidationError> errors;
        try { errors = compiled.Validate(json); }
        catch (Exception ex) { return [$"not JSON ({ex.Message})"]; }
        return errors.SelectMany(Flatten);
    }

    /// <summary>allOf failures nest the real reason one level down: report the leaves with their paths.</summary>
    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError e)
    {
        if (e is NJsonSchema.Validation.ChildSchemaValidationError child && child.Errors.Count > 0)
            return child.Errors.SelectMany(kv => kv.Value).SelectMany(Flatten);
        return [$"{e.Kind} at {e.Path}"];
    }

    /// <summary>
    /// Drops OpenAPI annotations (x-enumDescriptions, example) that carry no validation: NJsonSchema reads some x-
    /// keywords as its own extensions. Property maps keep their keys (a property may well be called "example").
    /// </summary>
    private static JsonNode Annotationless(JsonNode node, bool isPropertyMap = false)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    if (!isPropertyMap && (k.StartsWith("x-", StringComparison.Ordinal) || k is "example" or "examples")) { o.Remove(k); continue; }
                    if (v != null) Annotationless(v, !isPropertyMap && k == "properties");
                }
                break;
            case JsonArray a:
                foreach (var v in a) if (v != null) Annotationless(v);
                break;
        }
        return node;
    }

    private static string ScalarJson(string value, JsonObject schema) =>
        schema["type"]?.GetValue<string>() is "integer" or "number" && decimal.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? value
            : JsonSerializer.Serialize(value);

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var k = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            result[k] = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
        }
        return result;
    }
}
