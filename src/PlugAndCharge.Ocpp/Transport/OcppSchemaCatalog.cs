using System.Collections.Frozen;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>A payload that breaks its schema, with the CALLERROR code that says how.</summary>
public sealed record SchemaViolation(OcppErrorCode Code, string Description);

/// <summary>
/// The official OCA JSON schemas (embedded from Schemas/), by version and message, and the mapping of a violation to the
/// CALLERROR code OCPP-J defines for it (2.0.1 §4.3; 1.6 §4.2.3): a missing field or a wrong number of items is an
/// occurrence violation, a value of the wrong JSON type (or an unreadable date-time) a type violation, a value outside
/// its enumeration, pattern, length or range (or a property the schema does not know) a property violation.
/// Thread-safe; load once.
/// </summary>
public sealed class OcppSchemaCatalog
{
    private const string Prefix = "ocpp-schemas/";
    private readonly FrozenDictionary<string, JsonSchema> _schemas;
    // One validator for every call: a new one per call rebuilds its map of format validators (4 KB a message). Built
    // from settings: the parameterless constructor binds to "no custom validators" and checks no format at all.
    private readonly JsonSchemaValidator _validator = new(new JsonSchemaValidatorSettings());

    public static OcppSchemaCatalog Official { get; } = new();

    private OcppSchemaCatalog()
    {
        var asm = typeof(OcppSchemaCatalog).Assembly;
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(asm.GetManifestResourceStream(name)!);
            var key = name[Prefix.Length..^".json".Length];
            schemas[key] = JsonSchema.FromJsonAsync(reader.ReadToEnd()).GetAwaiter().GetResult();
        }
        _schemas = schemas.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool HasRequest(OcppVersion version, string action) => _schemas.ContainsKey(Key(version, action, response: false));

    public bool HasResponse(OcppVersion version, string action) => _schemas.ContainsKey(Key(version, action, response: true));

    /// <summary>Validates a CALL payload; null when it conforms.</summary>
    public SchemaViolation? ValidateRequest(OcppVersion version, string action, string payloadJson) => Validate(Key(version, action, response: false), payloadJson);

    /// <summary>Validates a CALLRESULT payload; null when it conforms.</summary>
    public SchemaViolation? ValidateResponse(OcppVersion version, string action, string payloadJson) => Validate(Key(version, action, response: true), payloadJson);

    /// <summary>
    /// Validates a CALL payload the transport has parsed already; null when it conforms. The validator's token tree is
    /// built from the parsed element, not by printing it and parsing the text again: with a contract chain in an
    /// Authorize that was 35 of the 49 KB the validation allocated per message.
    /// </summary>
    public SchemaViolation? ValidateRequest(OcppVersion version, string action, JsonElement payload) => Validate(Key(version, action, response: false), payload);

    /// <summary>Validates a CALLRESULT payload the transport has parsed already; null when it conforms.</summary>
    public SchemaViolation? ValidateResponse(OcppVersion version, string action, JsonElement payload) => Validate(Key(version, action, response: true), payload);

    private SchemaViolation? Validate(string key, JsonElement payload) =>
        _schemas.TryGetValue(key, out var schema) ? Check(schema, TokenOf(payload)) : NoSchema(key);

    private static SchemaViolation NoSchema(string key) => new(OcppErrorCode.NotImplemented, $"No schema for {key}.");

    private SchemaViolation? Validate(string key, string json)
    {
        if (!_schemas.TryGetValue(key, out var schema)) return NoSchema(key);
        JToken token;
        try
        {
            // Dates stay strings: the schema's "date-time" format check must see the text the station sent.
            using var reader = new JsonTextReader(new StringReader(json)) { DateParseHandling = DateParseHandling.None, FloatParseHandling = FloatParseHandling.Decimal };
            token = JToken.ReadFrom(reader);
        }
        catch (JsonReaderException e)
        {
            return new SchemaViolation(OcppErrorCode.FormatViolation, "Payload is not valid JSON: " + e.Message);
        }
        return Check(schema, token);
    }

    private SchemaViolation? Check(JsonSchema schema, JToken token)
    {
        ICollection<ValidationError> errors;
        try { errors = _validator.Validate(token, schema); }
        catch (Exception e) when (e is InvalidCastException or OverflowException)
        {
            // NJsonSchema converts numbers to decimal for range checks: an integer beyond it (30 digits) throws there.
            return new SchemaViolation(OcppErrorCode.PropertyConstraintViolation, "A number in the payload is out of range.");
        }
        if (errors.Count == 0) return null;
        var first = Deepest(errors.First());
        return new SchemaViolation(CodeOf(first.Kind), Describe(first));
    }

    /// <summary>
    /// The token Json.NET would read from the element's text with the settings of <see cref="Validate(string, string)"/>:
    /// strings stay strings (dates included), integers are Int64 or BigInteger, other numbers decimal, a repeated
    /// property name keeps its last value.
    /// </summary>
    private static JToken TokenOf(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var o = new JObject();
                foreach (var p in e.EnumerateObject()) o[p.Name] = TokenOf(p.Value);
                return o;
            case JsonValueKind.Array:
                var a = new JArray();
                foreach (var item in e.EnumerateArray()) a.Add(TokenOf(item));
                return a;
            case JsonValueKind.String: return new JValue(e.GetString());
            case JsonValueKind.True: return new JValue(true);
            case JsonValueKind.False: return new JValue(false);
            case JsonValueKind.Number:
                if (e.TryGetInt64(out var integer)) return new JValue(integer);
                var raw = e.GetRawText();
                if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0) return new JValue(BigInteger.Parse(raw, CultureInfo.InvariantCulture));
                return e.TryGetDecimal(out var d) ? new JValue(d) : new JValue(e.GetDouble());
            default: return JValue.CreateNull();
        }
    }

    private static string Key(OcppVersion version, string action, bool response) => version switch
    {
        // 1.6 files are named after the action for requests ("Authorize.json") and Action+"Response" for responses.
        OcppVersion.V16 => "v16/" + action + (response ? "Response" : ""),
        OcppVersion.V201 => "v201/" + action + (response ? "Response" : "Request"),
        _ => "v21/" + action + (response ? "Response" : "Request"),
    };

    /// <summary>An error about an array item or a sub-schema carries the precise cause in its children.</summary>
    private static ValidationError Deepest(ValidationError error)
    {
        while (error is ChildSchemaValidationError child)
        {
            var next = child.Errors.Values.SelectMany(e => e).FirstOrDefault();
            if (next == null) break;
            error = next;
        }
        return error;
    }

    private static string Describe(ValidationError e)
    {
        var path = string.IsNullOrEmpty(e.Path) ? "payload" : e.Path.TrimStart('#', '/').Replace('/', '.');
        return $"{e.Kind} at {(path.Length == 0 ? "payload" : path)}";
    }

    internal static OcppErrorCode CodeOf(ValidationErrorKind kind) => kind switch
    {
        ValidationErrorKind.PropertyRequired or ValidationErrorKind.TooManyItems or ValidationErrorKind.TooFewItems
            or ValidationErrorKind.TooManyItemsInTuple or ValidationErrorKind.TooManyProperties or ValidationErrorKind.TooFewProperties
            => OcppErrorCode.OccurrenceConstraintViolation,
        ValidationErrorKind.StringExpected or ValidationErrorKind.NumberExpected or ValidationErrorKind.IntegerExpected
            or ValidationErrorKind.BooleanExpected or ValidationErrorKind.ObjectExpected or ValidationErrorKind.ArrayExpected
            or ValidationErrorKind.NullExpected or ValidationErrorKind.DateTimeExpected or ValidationErrorKind.DateExpected
            or ValidationErrorKind.TimeExpected or ValidationErrorKind.NoTypeValidates
            => OcppErrorCode.TypeConstraintViolation,
        ValidationErrorKind.Unknown => OcppErrorCode.FormatViolation,
        _ => OcppErrorCode.PropertyConstraintViolation,
    };
}
