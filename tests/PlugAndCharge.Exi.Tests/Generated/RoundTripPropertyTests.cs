using PlugAndCharge.Exi.Grammar;
using Xunit;

namespace PlugAndCharge.Exi.Tests.Generated;

/// <summary>
/// Property: for random valid instances of every global element (documents) and every declared element
/// (fragments) of every schema, encode → decode gives the same model and re-encoding gives the same bytes.
/// Seeds are fixed, so failures reproduce.
/// </summary>
public class RoundTripPropertyTests
{
    public static TheoryData<ExiSchemaId, bool> Cases()
    {
        var data = new TheoryData<ExiSchemaId, bool>();
        foreach (var id in ExiSchema.All)
        {
            data.Add(id, false);
            data.Add(id, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Documents_of_every_global_element_round_trip(ExiSchemaId id, bool strict)
    {
        var schema = ExiSchema.Get(id);
        var options = new ExiOptions { Strict = strict };
        var g = schema.Grammar(options);
        int seeds = strict ? 3 : 10;
        for (int seed = 1; seed <= seeds; seed++)
        {
            var gen = new InstanceGenerator(g, seed * 7919 + (int)id);
            for (int i = 0; i < g.GlobalElements.Length; i++)
            {
                var element = gen.Generate(g.GlobalElements[i], g.GlobalElementGrammars[i]);
                AssertRoundTrip(schema, options, element, fragment: false, $"{id} strict={strict} seed={seed} {g.GlobalElements[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fragments_of_every_declared_element_round_trip(ExiSchemaId id, bool strict)
    {
        var schema = ExiSchema.Get(id);
        var options = new ExiOptions { Strict = strict };
        var g = schema.Grammar(options);
        var gen = new InstanceGenerator(g, 4242 + (int)id + (strict ? 1000 : 0));
        for (int i = 0; i < g.FragmentElements.Length; i++)
        {
            var element = gen.Generate(g.FragmentElements[i], g.FragmentElementGrammars[i]);
            AssertRoundTrip(schema, options, element, fragment: true, $"{id} strict={strict} fragment {g.FragmentElements[i]}");
        }
    }

    [Theory]
    [InlineData(ExiSchemaId.Iso2)]
    [InlineData(ExiSchemaId.Din)]
    public void Every_body_message_round_trips_inside_a_V2G_Message(ExiSchemaId id)
    {
        var schema = ExiSchema.Get(id);
        var g = schema.Grammar(ExiOptions.Iso15118);
        int root = Array.FindIndex(g.GlobalElements, q => q.LocalName == "V2G_Message");
        var bodyState = g.GlobalElementGrammars[root].States.SelectMany(s => s.Productions).First(p => p.Name.LocalName == "Body").Element!.States[0];
        var members = bodyState.Productions.Where(p => p.Type == EventType.StartElement).ToArray();
        Assert.True(members.Length > 30, "the Body substitution group lists every message");
        for (int seed = 1; seed <= 3; seed++)
        {
            var gen = new InstanceGenerator(g, seed);
            foreach (var member in members)
            {
                ExiElement message;
                do message = gen.Generate(g.GlobalElements[root], g.GlobalElementGrammars[root]);
                while (message.XsiNil != null || message.XsiType != null || message.Element("Body") == null);
                var body = message.Element("Body")!;
                body.Children.Clear();
                body.XsiNil = null;
                body.XsiType = null;
                body.Add(gen.Generate(member.Name, member.Element!));
                AssertRoundTrip(schema, ExiOptions.Iso15118, message, fragment: false, $"{id} seed={seed} Body/{member.Name.LocalName}");
            }
        }
    }

    [Fact]
    public void Value_partitions_option_round_trips_and_uses_table_hits()
    {
        var schema = ExiSchema.Iso2;
        var options = new ExiOptions { ValuePartitions = true };
        var g = schema.Grammar(options);
        var gen = new InstanceGenerator(g, 99);
        for (int i = 0; i < g.GlobalElements.Length; i++)
            AssertRoundTrip(schema, options, gen.Generate(g.GlobalElements[i], g.GlobalElementGrammars[i]), false, "value partitions " + g.GlobalElements[i]);

        // The RISE SignedInfo repeats Algorithm values: with value partitions they become hits and the stream shrinks.
        var signedInfo = ExiXml.Parse(Vectors.RiseXml).Descendant("SignedInfo")!;
        var plain = ExiSchema.XmlDsigSchema.EncodeFragment(signedInfo);
        var tabled = ExiSchema.XmlDsigSchema.EncodeFragment(signedInfo, options);
        Assert.True(tabled.Length < plain.Length);
        Assert.Equal(ExiXml.ToXml(signedInfo), ExiXml.ToXml(ExiSchema.XmlDsigSchema.DecodeFragment(tabled, options)[0]));
    }

    internal static void AssertRoundTrip(ExiSchema schema, ExiOptions options, ExiElement element, bool fragment, string what)
    {
        string expectedXml = ExiXml.ToXml(element);
        byte[] bytes;
        try
        {
            bytes = fragment ? schema.EncodeFragment(element, options) : schema.Encode(element, options);
        }
        catch (ExiEncodeException ex)
        {
            throw new Xunit.Sdk.XunitException($"{what}: encode failed: {ex.Message}\n{expectedXml}");
        }
        ExiElement decoded;
        try
        {
            decoded = fragment ? Assert.Single(schema.DecodeFragment(bytes, options)) : schema.Decode(bytes, options);
        }
        catch (ExiDecodeException ex)
        {
            throw new Xunit.Sdk.XunitException($"{what}: decode failed: {ex.Message}\n{expectedXml}\n{Convert.ToHexString(bytes)}");
        }
        string actualXml = ExiXml.ToXml(decoded);
        if (actualXml != expectedXml) throw new Xunit.Sdk.XunitException($"{what}: model differs\nexpected {expectedXml}\nactual   {actualXml}");
        byte[] again = fragment ? schema.EncodeFragment(decoded, options) : schema.Encode(decoded, options);
        if (!again.AsSpan().SequenceEqual(bytes)) throw new Xunit.Sdk.XunitException($"{what}: re-encoding differs");
    }
}
