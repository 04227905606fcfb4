using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;

namespace PlugAndCharge.Server.Tests.OpenApi;

/// <summary>
/// The service's /openapi/v1.json, read back: finds the operation of a request and checks a JSON answer against it —
/// the status must be documented for the operation with a JSON body, and the body must validate (NJsonSchema) against
/// the documented schema, its component references resolved.
/// </summary>
public sealed class ApiDescription
{
    private readonly JsonObject _document;
    private readonly IReadOnlyList<(string Template, Regex Pattern, JsonObject Item)> _paths;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new();

    public ApiDescription(JsonObject document)
    {
        _document = document;
        // Most literal characters first, so /v1/oem/provCerts/lookupVehicle/{pcid} wins over a template with a parameter there.
        _paths = document["paths"]!.AsObject()
            .Select(p => (Template: p.Key, Pattern: PatternOf(p.Key), Item: p.Value!.AsObject()))
            .OrderByDescending(p => Regex.Replace(p.Template, "{[^}]*}", "").Length)
            .ToList();
    }

    public JsonObject Document => _document;

    /// <summary>The operations of the document: method (upper case), path template, operation.</summary>
    public IEnumerable<(string Method, string Template, JsonObject Operation)> Operations =>
        _paths.SelectMany(p => p.Item.Where(kv => kv.Value is JsonObject && kv.Key is "get" or "put" or "post" or "delete" or "patch")
            .Select(kv => (kv.Key.ToUpperInvariant(), p.Template, kv.Value!.AsObject())));

    /// <summary>The documented operation for <paramref name="method"/> on <paramref name="path"/>, or null when the document has none.</summary>
    public (string Template, JsonObject Operation)? Find(string method, string path)
    {
        var normalized = path.Length > 1 ? path.TrimEnd('/') : path;
        foreach (var (template, pattern, item) in _paths)
            if (pattern.IsMatch(normalized) && item[method.ToLowerInvariant()] is JsonObject op)
                return (template, op);
        return null;
    }

    /// <summary>Why a JSON answer does not match its operation's description; empty when it does.</summary>
    public IReadOnlyList<string> Check(string method, string template, JsonObject operation, int status, string json)
    {
        var code = status.ToString(CultureInfo.InvariantCulture);
        if (operation["responses"]?[code] is not JsonObject response)
            return [$"status {code} is not documented for {method} {template}"];
        if (response["content"] is not JsonObject content || content.Count == 0)
            return [$"{method} {template} documents {code} without a body, but it answered JSON"];
        var schema = content.Select(c => c.Value?["schema"] as JsonObject).FirstOrDefault(s => s != null);
        if (schema == null) return [$"{method} {template} documents {code} without a schema"];
        var compiled = _schemas.GetOrAdd($"{method} {template} {code}", _ => Compile(schema));
        try
        {
            return compiled.Validate(json).SelectMany(Flatten).Select(e => $"{method} {template} {code}: {e}").ToList();
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or FormatException)
        {
            return [$"{method} {template} {code}: body is not JSON ({e.Message})"];
        }
    }

    /// <summary>The schema of a response, resolved: its component references become definitions of one standalone schema.</summary>
    public JsonSchema Compile(JsonObject schema)
    {
        // A schema that is only a reference is read as that reference by NJsonSchema, definitions and all: start from its target.
        var root = schema.Count == 1 && schema["$ref"]?.GetValue<string>() is { } reference
            ? _document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!
            : schema;
        var standalone = Rewritten(root.DeepClone()).AsObject();
        var definitions = new JsonObject();
        foreach (var (name, component) in _document["components"]?["schemas"]?.AsObject() ?? [])
            definitions[name] = Rewritten(component!.DeepClone());
        standalone["definitions"] = definitions;
        return JsonSchema.FromJsonAsync(standalone.ToJsonString()).GetAwaiter().GetResult();
    }

    /// <summary>References to #/components/schemas/X point at #/definitions/X.</summary>
    private static JsonNode Rewritten(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (key == "$ref" && value?.GetValue<string>() is { } reference)
                        o[key] = reference.Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal);
                    else if (value != null) Rewritten(value);
                }
                break;
            case JsonArray a:
                foreach (var value in a) if (value != null) Rewritten(value);
                break;
        }
        return node;
    }

    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError e)
    {
        if (e is NJsonSchema.Validation.ChildSchemaValidationError child && child.Errors.Count > 0)
            return child.Errors.SelectMany(kv => kv.Value).SelectMany(Flatten);
        return [$"{e.Kind} at {e.Path}"];
    }

    /// <summary>A path template as a regular expression: a parameter is one segment (or part of one, as in /ca/{caId}.der); a last parameter may take the rest.</summary>
    private static Regex PatternOf(string template)
    {
        var trimmed = template.Length > 1 ? template.TrimEnd('/') : template;
        var parts = Regex.Split(trimmed, "({[^}]*})");
        var pattern = string.Concat(parts.Select((p, i) => p.StartsWith('{')
            ? (i == parts.Length - 2 && parts[^1].Length == 0 && p.StartsWith("{**", StringComparison.Ordinal) ? ".+" : "[^/]+")
            : Regex.Escape(p)));
        return new Regex("^" + pattern + "$", RegexOptions.CultureInvariant);
    }
}
