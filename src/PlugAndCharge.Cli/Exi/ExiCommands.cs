using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Xml;
using PlugAndCharge.Exi;

namespace PlugAndCharge.Cli.Exi;

/// <summary>
/// `pnc exi`: decode EXI (file, base64 or hex) to XML or JSON, encode XML to EXI.
/// Exit codes: 0 success, 1 the data could not be decoded/encoded (typed codec error), 2 usage mistakes.
/// </summary>
public static class ExiCommands
{
    private const string SchemaNames = "iso2, iso20, iso20-ac, iso20-dc, iso20-acdp, iso20-wpt, din, apphand, xmldsig";

    private static readonly ExiSchemaId[] DetectionOrder =
    {
        ExiSchemaId.Iso2, ExiSchemaId.Iso20, ExiSchemaId.Iso20Ac, ExiSchemaId.Iso20Dc, ExiSchemaId.Iso20Acdp,
        ExiSchemaId.Iso20Wpt, ExiSchemaId.Din, ExiSchemaId.AppHand, ExiSchemaId.XmlDsig,
    };

    /// <summary>The `exi` verb with `decode` and `encode`, for pnc's command tree.</summary>
    public static Command Create()
    {
        var exi = new Command("exi", "ISO 15118 EXI messages: decode EXI to XML or JSON, encode XML to EXI. Exit 0 on success, " +
            "1 when the data cannot be decoded or encoded, 2 for usage mistakes.") { Decode(), Encode() };
        exi.SetAction(r => Guarded(r, _ => throw new UsageException("missing command (decode or encode); see --help")));
        return exi;
    }

    /// <summary>`pnc exi ARGS` on its own: the verb's tests run it without the rest of pnc.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var root = new RootCommand { HelpName = "pnc" };
        root.Subcommands.Add(Create());
        var parsed = root.Parse(["exi", .. args], CommandLineUsage.Parser);
        if (CommandLineUsage.ReportErrors(parsed, "pnc exi", stderr)) return CommandLineUsage.MistakeExitCode;
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static Option<ExiSchema> SchemaOption() => new("--schema")
    {
        HelpName = "NAME",
        Description = $"{SchemaNames} (default: recognised from the XML namespace, or the first schema that decodes the input).",
        CustomParser = r => ExiSchema.FromName(r.Tokens[0].Value) ?? CommandLineUsage.Refuse<ExiSchema>(r, $"unknown schema '{r.Tokens[0].Value}' ({SchemaNames})"),
        CompletionSources = { SchemaNames.Split(", ") },
    };

    private static Command Decode()
    {
        var input = new Argument<string>("input")
        {
            HelpName = "FILE|BASE64|HEX", Arity = ArgumentArity.ZeroOrOne, // required, checked in the action: `--fragment HEX` may hold it
            Description = "EXI bytes: a file (raw, or base64/hex text), or base64 or hex on the command line.",
        };
        var schema = SchemaOption();
        var fragment = new Option<string>("--fragment")
        {
            HelpName = "ELEMENT", Arity = ArgumentArity.ZeroOrOne,
            Description = "The input is an EXI fragment (as signed in XML signatures); with ELEMENT, the decoded fragment must start with that element.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of XML." };
        var command = new Command("decode", "Prints the EXI document (or fragment) as XML, or as JSON with --json.") { input, schema, fragment, json };
        command.SetAction(r => Guarded(r, stdout =>
        {
            // `--fragment X` takes X as the element only when another argument is the input: `--fragment HEX` is the input.
            var (text, element) = (r.GetValue(input), r.GetValue(fragment));
            if (text == null) (text, element) = (element ?? throw new UsageException("missing input (a file, base64 or hex)"), null);
            return Decode(new Options { Input = text, Schema = r.GetValue(schema), Fragment = r.GetResult(fragment) != null, FragmentElement = element, Json = r.GetValue(json) }, stdout);
        }));
        return command;
    }

    private static Command Encode()
    {
        var input = new Argument<string>("FILE.xml") { Description = "The XML document (or fragment) to encode." };
        var schema = SchemaOption();
        var fragment = new Option<bool>("--fragment") { Description = "Encode an EXI fragment (as signed in XML signatures)." };
        var hex = new Option<bool>("--hex") { Description = "Print hex instead of base64." };
        var command = new Command("encode", "Reads XML and prints the EXI bytes as base64 (hex with --hex).") { input, schema, fragment, hex };
        command.SetAction(r => Guarded(r, stdout =>
            Encode(new Options { Input = r.GetValue(input)!, Schema = r.GetValue(schema), Fragment = r.GetValue(fragment), Hex = r.GetValue(hex) }, stdout)));
        return command;
    }

    /// <summary>The verb's own mistakes and codec errors as one line after "pnc exi:".</summary>
    private static int Guarded(ParseResult r, Func<TextWriter, int> run)
    {
        var stderr = r.InvocationConfiguration.Error;
        try
        {
            return run(r.InvocationConfiguration.Output);
        }
        catch (UsageException ex)
        {
            stderr.WriteLine("pnc exi: " + ex.Message);
            return CommandLineUsage.MistakeExitCode;
        }
        catch (ExiDecodeException ex)
        {
            stderr.WriteLine("pnc exi: decode error: " + ex.Message);
            return 1;
        }
        catch (ExiEncodeException ex)
        {
            stderr.WriteLine("pnc exi: encode error: " + ex.Message);
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine("pnc exi: " + OneLine(ex.Message));
            return CommandLineUsage.MistakeExitCode;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private sealed class Options
    {
        public required string Input { get; init; }
        public ExiSchema? Schema { get; init; }
        public bool Fragment { get; init; }
        public string? FragmentElement { get; init; }
        public bool Json { get; init; }
        public bool Hex { get; init; }
    }

    // ---------------------------------------------------------------- decode

    private static int Decode(Options o, TextWriter stdout)
    {
        byte[] exi = ReadExiInput(o.Input);
        ExiElement[] elements;
        if (o.Schema != null)
        {
            elements = DecodeWith(o.Schema, exi, o.Fragment);
        }
        else
        {
            elements = Array.Empty<ExiElement>();
            ExiElement[]? firstDecoded = null;
            ExiDecodeException? firstError = null;
            bool exact = false;
            foreach (var id in DetectionOrder)
            {
                if (!o.Fragment && id == ExiSchemaId.XmlDsig) continue;
                var schema = ExiSchema.Get(id);
                try
                {
                    elements = DecodeWith(schema, exi, o.Fragment);
                    firstDecoded ??= elements;
                    // Prefer the schema that explains the input exactly (canonical re-encoding gives the same bytes).
                    byte[] again = o.Fragment ? schema.EncodeFragment(elements) : schema.Encode(elements[0]);
                    if (!again.AsSpan().SequenceEqual(exi)) continue;
                    exact = true;
                    break;
                }
                catch (ExiDecodeException ex)
                {
                    firstError ??= ex;
                }
                catch (ExiEncodeException)
                {
                }
            }
            if (!exact) elements = firstDecoded ?? throw firstError ?? new ExiDecodeException(0, "no schema decodes this input; name one with --schema");
        }

        if (o.FragmentElement != null && (elements.Length == 0 || elements[0].Name.LocalName != o.FragmentElement))
            throw new ExiDecodeException(8, $"the fragment does not start with element '{o.FragmentElement}'");

        if (o.Json) WriteJson(elements, o.Fragment, stdout);
        else foreach (var e in elements) stdout.WriteLine(ExiXml.ToXml(e, indent: true));
        return 0;
    }

    private static ExiElement[] DecodeWith(ExiSchema schema, byte[] exi, bool fragment) =>
        fragment ? schema.DecodeFragment(exi).ToArray() : new[] { schema.Decode(exi) };

    /// <summary>A file (raw EXI, or base64/hex text), else the argument itself as hex or base64.</summary>
    private static byte[] ReadExiInput(string input)
    {
        if (File.Exists(input))
        {
            byte[] raw = File.ReadAllBytes(input);
            if ((raw.Length > 0 && (raw[0] & 0xC0) == 0x80) || (raw.Length >= 4 && raw[0] == (byte)'$' && raw[1] == (byte)'E')) return raw;
            string text;
            try { text = new UTF8Encoding(false, true).GetString(raw); }
            catch (DecoderFallbackException) { return raw; }
            return ParseText(text) ?? raw;
        }
        if (input.Contains(Path.DirectorySeparatorChar) || input.EndsWith(".exi", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"file not found: {input}");
        return ParseText(input) ?? throw new UsageException($"'{Shorten(input)}' is neither a file nor hex nor base64");
    }

    private static byte[]? ParseText(string text)
    {
        string t = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        if (t.Length == 0) return null;
        if (t.Length % 2 == 0 && t.All(Uri.IsHexDigit)) return Convert.FromHexString(t);
        if (t.Length % 4 == 0)
        {
            var buf = new byte[t.Length / 4 * 3];
            if (Convert.TryFromBase64String(t, buf, out int n)) return buf.AsSpan(0, n).ToArray();
        }
        return null;
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    private static void WriteJson(ExiElement[] elements, bool fragment, TextWriter stdout)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            if (fragment)
            {
                w.WriteStartArray();
                foreach (var e in elements) WriteJsonElement(w, e);
                w.WriteEndArray();
            }
            else WriteJsonElement(w, elements[0]);
        }
        stdout.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void WriteJsonElement(Utf8JsonWriter w, ExiElement e)
    {
        w.WriteStartObject();
        w.WriteString("name", e.Name.LocalName);
        if (e.Name.Namespace.Length > 0) w.WriteString("ns", e.Name.Namespace);
        if (e.XsiType is { } t) w.WriteString("xsiType", t.ToString());
        if (e.XsiNil is { } nil) w.WriteBoolean("xsiNil", nil);
        if (e.HasAttributes)
        {
            w.WriteStartObject("attributes");
            foreach (var a in e.Attributes) w.WriteString(a.Name.ToString(), a.Value.ToString());
            w.WriteEndObject();
        }
        if (!e.Value.IsNone)
        {
            w.WritePropertyName("value");
            WriteJsonValue(w, e.Value);
        }
        if (e.HasChildren)
        {
            w.WriteStartArray("children");
            foreach (var c in e.Children)
            {
                if (c is ExiElement ce) WriteJsonElement(w, ce);
                else if (c is ExiText tx) w.WriteStringValue(tx.Text);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteJsonValue(Utf8JsonWriter w, ExiValue v)
    {
        switch (v.Kind)
        {
            case ExiValueKind.Boolean: w.WriteBooleanValue(v.AsBoolean()); break;
            case ExiValueKind.Integer: w.WriteNumberValue(v.AsInt64()); break;
            case ExiValueKind.List:
                w.WriteStartArray();
                foreach (var item in v.AsList()) WriteJsonValue(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }

    // ---------------------------------------------------------------- encode

    private static int Encode(Options o, TextWriter stdout)
    {
        if (!File.Exists(o.Input)) throw new UsageException($"file not found: {o.Input}");
        ExiElement root;
        try
        {
            root = ExiXml.Parse(File.ReadAllText(o.Input));
        }
        catch (XmlException ex)
        {
            throw new UsageException($"{o.Input} is not well-formed XML: {OneLine(ex.Message)}");
        }
        var schema = o.Schema ?? ExiSchema.FromNamespace(root.Name.Namespace)
            ?? throw new UsageException($"no schema owns namespace '{root.Name.Namespace}'; name one with --schema");
        byte[] exi = o.Fragment ? schema.EncodeFragment(root) : schema.Encode(root);
        stdout.WriteLine(o.Hex ? Convert.ToHexString(exi) : Convert.ToBase64String(exi));
        return 0;
    }
}
