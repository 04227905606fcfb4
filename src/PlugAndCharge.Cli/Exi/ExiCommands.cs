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
    public const string Usage =
        """
        usage: pnc exi decode FILE|BASE64|HEX [--schema NAME] [--fragment [ELEMENT]] [--json]
               pnc exi encode FILE.xml [--schema NAME] [--fragment] [--hex]
               pnc exi --help

        decode  prints the EXI document (or fragment) as XML, or as JSON with --json.
        encode  reads XML and prints the EXI bytes as base64 (hex with --hex).

        --schema NAME       iso2, iso20, iso20-ac, iso20-dc, iso20-acdp, iso20-wpt, din, apphand, xmldsig
                            (default: recognised from the XML namespace, or the first schema that decodes the input)
        --fragment [ELEM]   the input is an EXI fragment (as signed in XML signatures); with ELEM, the
                            decoded fragment must start with that element
        --json              decode: print JSON instead of XML
        --hex               encode: print hex instead of base64
        """;

    private static readonly ExiSchemaId[] DetectionOrder =
    {
        ExiSchemaId.Iso2, ExiSchemaId.Iso20, ExiSchemaId.Iso20Ac, ExiSchemaId.Iso20Dc, ExiSchemaId.Iso20Acdp,
        ExiSchemaId.Iso20Wpt, ExiSchemaId.Din, ExiSchemaId.AppHand, ExiSchemaId.XmlDsig,
    };

    private sealed class UsageException(string message) : Exception(message);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            if (args.Length == 0) throw new UsageException("missing command (decode or encode); see --help");
            if (args[0] is "--help" or "-h" or "help")
            {
                stdout.WriteLine(Usage);
                return 0;
            }
            var rest = args[1..];
            if (rest.Any(a => a is "--help" or "-h"))
            {
                stdout.WriteLine(Usage);
                return 0;
            }
            return args[0] switch
            {
                "decode" => Decode(Options.Parse(rest, decode: true), stdout),
                "encode" => Encode(Options.Parse(rest, decode: false), stdout),
                _ => throw new UsageException($"unknown command '{args[0]}' (expected decode or encode)"),
            };
        }
        catch (UsageException ex)
        {
            stderr.WriteLine("pnc exi: " + ex.Message);
            return 2;
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
            return 2;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private sealed class Options
    {
        public string Input = "";
        public ExiSchema? Schema;
        public bool Fragment;
        public string? FragmentElement;
        public bool Json;
        public bool Hex;

        public static Options Parse(string[] args, bool decode)
        {
            var o = new Options();
            var positional = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string? inline = null;
                int eq = a.IndexOf('=', StringComparison.Ordinal);
                if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
                {
                    inline = a[(eq + 1)..];
                    a = a[..eq];
                }
                switch (a)
                {
                    case "--schema":
                    {
                        string name = inline ?? (i + 1 < args.Length ? args[++i] : throw new UsageException("--schema needs a name"));
                        o.Schema = ExiSchema.FromName(name) ?? throw new UsageException($"unknown schema '{name}' (iso2, iso20, iso20-ac, iso20-dc, iso20-acdp, iso20-wpt, din, apphand, xmldsig)");
                        break;
                    }
                    case "--fragment":
                        o.Fragment = true;
                        if (inline != null) o.FragmentElement = inline;
                        else if (decode && i + 1 < args.Length && !args[i + 1].StartsWith('-') && RemainingPositional(args, i + 2) + positional.Count >= 1)
                            o.FragmentElement = args[++i];
                        break;
                    case "--json" when decode:
                        o.Json = true;
                        break;
                    case "--hex" when !decode:
                        o.Hex = true;
                        break;
                    default:
                        if (a.StartsWith('-') && a.Length > 1) throw new UsageException($"unknown option '{args[i]}'");
                        positional.Add(args[i]);
                        break;
                }
            }
            if (positional.Count == 0) throw new UsageException(decode ? "missing input (a file, base64 or hex)" : "missing input XML file");
            if (positional.Count > 1) throw new UsageException($"unexpected argument '{positional[1]}'");
            o.Input = positional[0];
            return o;
        }

        private static int RemainingPositional(string[] args, int from)
        {
            int n = 0;
            for (int i = from; i < args.Length; i++)
            {
                if (args[i] == "--schema") { i++; continue; }
                if (!args[i].StartsWith('-')) n++;
            }
            return n;
        }
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
