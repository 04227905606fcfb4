using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace PlugAndCharge.Exi.Tests;

/// <summary>
/// Hostile input: random and mutated streams must only ever produce <see cref="ExiDecodeException"/>, quickly.
/// The default run fuzzes 100k inputs; set PNC_FUZZ_ITERATIONS (e.g. 1000000) for a longer run, PNC_FUZZ_SEED to vary it.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private sealed record Target(string Name, Func<byte[], IReadOnlyList<ExiElement>> Decode, Func<IReadOnlyList<ExiElement>, byte[]> Encode);

    private static Target[] Targets()
    {
        Target Doc(ExiSchema s) => new(s.Name + " document", b => new[] { s.Decode(b) }, e => s.Encode(e[0]));
        Target Frag(ExiSchema s) => new(s.Name + " fragment", b => s.DecodeFragment(b), e => s.EncodeFragment(e));
        return new[]
        {
            Doc(ExiSchema.Iso2), Frag(ExiSchema.Iso2), Frag(ExiSchema.XmlDsigSchema), Doc(ExiSchema.Din),
            Doc(ExiSchema.Iso20), Frag(ExiSchema.Iso20), Doc(ExiSchema.AppHand), Doc(ExiSchema.Iso20Dc),
        };
    }

    private static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>
        {
            Vectors.HubjectRequest,
            Vectors.HubjectFailedResponse,
            Vectors.Bytes("hubject_opcp/derived/req_frag_CertificateInstallationReq_ID1.exi"),
            Vectors.Bytes("hubject_opcp/derived/req_SignedInfo.xmldsigfrag.exi"),
            Vectors.Hex("iso15118_2_annexJ2_everest/iso_exi_a.hex"),
            Vectors.Hex("iso15118_2_annexJ2_everest/iso_exi_b.hex"),
            ExiSchema.Iso2.Encode(ExiXml.Parse(Vectors.RiseXml)),
        };
        var json = Vectors.RiseJson.GetProperty("msgbody_namespace");
        foreach (var p in json.EnumerateObject()) seeds.Add(Convert.FromHexString(p.Value.GetProperty("exi_fragment_hex").GetString()!));
        // Generated valid documents of other schemas, so mutations also reach deep into their grammars.
        foreach (var id in new[] { ExiSchemaId.Din, ExiSchemaId.Iso20, ExiSchemaId.AppHand, ExiSchemaId.Iso20Dc })
        {
            var schema = ExiSchema.Get(id);
            var g = schema.Grammar(ExiOptions.Iso15118);
            var gen = new Generated.InstanceGenerator(g, 11);
            for (int i = 0; i < g.GlobalElements.Length; i += 3)
                seeds.Add(schema.Encode(gen.Generate(g.GlobalElements[i], g.GlobalElementGrammars[i])));
        }
        return seeds;
    }

    [Fact]
    public void Random_and_mutated_inputs_only_raise_typed_errors()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("PNC_FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 100_000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PNC_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 20240601;
        var result = Fuzz(iterations, seed);
        output.WriteLine(result.ToString());
        Assert.Equal(iterations, result.Inputs);
        Assert.True(result.Failures.Count == 0, string.Join("\n", result.Failures.Take(10)));
        Assert.True(result.SlowestMs < 1000, $"slowest input took {result.SlowestMs} ms");
    }

    internal sealed record FuzzResult(int Inputs, int Decoded, int TypedErrors, int Reencoded, double SlowestMs, TimeSpan Elapsed, List<string> Failures)
    {
        public override string ToString() =>
            $"{Inputs} inputs: {TypedErrors} typed decode errors, {Decoded} decoded ({Reencoded} re-encoded consistently), slowest {SlowestMs:F2} ms, total {Elapsed.TotalSeconds:F1} s, failures {Failures.Count}";
    }

    internal static FuzzResult Fuzz(int iterations, int seed)
    {
        var rnd = new Random(seed);
        var seeds = Seeds();
        var targets = Targets();
        foreach (var t in targets) { try { t.Decode(new byte[] { 0x80 }); } catch (ExiDecodeException) { } } // build grammars outside the timing
        var failures = new List<string>();
        int decoded = 0, typed = 0, reencoded = 0;
        double slowest = 0;
        var total = Stopwatch.StartNew();
        var sw = new Stopwatch();
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = MakeInput(rnd, seeds);
            var target = targets[rnd.Next(targets.Length)];
            sw.Restart();
            try
            {
                var elements = target.Decode(input);
                decoded++;
                try
                {
                    // A decoded model either re-encodes (and then decodes to the same model) or is refused with a typed error.
                    var again = target.Encode(elements);
                    var back = target.Decode(again);
                    if (string.Concat(back.Select(e => ExiXml.ToXml(e))) != string.Concat(elements.Select(e => ExiXml.ToXml(e))))
                        failures.Add($"{target.Name}: re-encoded model differs for {Convert.ToHexString(input)}");
                    else reencoded++;
                }
                catch (ExiEncodeException)
                {
                }
            }
            catch (ExiDecodeException ex)
            {
                typed++;
                if (ex.Reason.StartsWith("internal error", StringComparison.Ordinal))
                    failures.Add($"{target.Name}: {ex.Reason} for {Convert.ToHexString(input)}\n{ex.InnerException}");
            }
            catch (Exception ex)
            {
                failures.Add($"{target.Name}: {ex.GetType().Name}: {ex.Message} for {Convert.ToHexString(input)}");
            }
            double ms = sw.Elapsed.TotalMilliseconds;
            if (ms > slowest) slowest = ms;
        }
        return new FuzzResult(iterations, decoded, typed, reencoded, slowest, total.Elapsed, failures);
    }

    private static byte[] MakeInput(Random rnd, List<byte[]> seeds)
    {
        int kind = rnd.Next(10);
        if (kind < 2)
        {
            // Random bytes, mostly behind a valid header so the body decoder is exercised.
            var b = new byte[rnd.Next(1, kind == 0 ? 16 : 300)];
            rnd.NextBytes(b);
            if (rnd.Next(8) != 0) b[0] = 0x80;
            return b;
        }
        var src = seeds[rnd.Next(seeds.Count)];
        var buf = (byte[])src.Clone();
        int mutations = 1 + rnd.Next(rnd.Next(2) == 0 ? 2 : 8);
        for (int m = 0; m < mutations; m++)
        {
            switch (rnd.Next(7))
            {
                case 0: // flip one bit
                {
                    int pos = rnd.Next(buf.Length);
                    buf[pos] ^= (byte)(1 << rnd.Next(8));
                    break;
                }
                case 1: // random byte
                    buf[rnd.Next(buf.Length)] = (byte)rnd.Next(256);
                    break;
                case 2: // truncate
                    if (buf.Length > 1) buf = buf[..rnd.Next(1, buf.Length)];
                    break;
                case 3: // insert random bytes
                {
                    int pos = rnd.Next(buf.Length + 1);
                    var ins = new byte[rnd.Next(1, 5)];
                    rnd.NextBytes(ins);
                    buf = buf[..pos].Concat(ins).Concat(buf[pos..]).ToArray();
                    break;
                }
                case 4: // delete a range
                {
                    if (buf.Length < 3) break;
                    int pos = rnd.Next(1, buf.Length - 1);
                    int len = rnd.Next(1, Math.Min(16, buf.Length - pos));
                    buf = buf[..pos].Concat(buf[(pos + len)..]).ToArray();
                    break;
                }
                case 5: // large length prefixes: 0xFF runs
                {
                    int pos = rnd.Next(buf.Length);
                    int len = Math.Min(rnd.Next(1, 6), buf.Length - pos);
                    for (int k = 0; k < len; k++) buf[pos + k] = 0xFF;
                    break;
                }
                default: // splice with another seed
                {
                    var other = seeds[rnd.Next(seeds.Count)];
                    int pos = rnd.Next(buf.Length);
                    int from = rnd.Next(other.Length);
                    buf = buf[..pos].Concat(other[from..]).ToArray();
                    break;
                }
            }
            if (buf.Length == 0) buf = new byte[] { 0x80 };
        }
        return buf;
    }
}
