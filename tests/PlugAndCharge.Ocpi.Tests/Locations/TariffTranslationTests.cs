using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Locations;

/// <summary>
/// Issue 24 item 4: tariffs, prices and taxes between 2.3.0 (before_taxes/taxes, after_taxes, tax_included) and 2.2.1
/// (excl_vat/incl_vat), on the official examples of both versions (Examples/SOURCE.md).
/// </summary>
public sealed class TariffTranslationTests
{
    private static JsonObject Example(string name, OcpiVersion v) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", $"{name}-{v.ToText()}.json")))!.AsObject();

    private static JsonNode Translate(JsonNode n, OcpiVersion from, OcpiVersion to) =>
        JsonNode.Parse(VersionTranslation.Body(System.Text.Encoding.UTF8.GetBytes(n.ToJsonString()), from, to))!;

    /// <summary>Every tariff example the two versions share (the same tariff written for each).</summary>
    public static TheoryData<string> Pairs()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Examples"), "tariff_*-2.2.1.json").Order())
            data.Add(Path.GetFileName(f)[..^"-2.2.1.json".Length]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void An_official_tariff_translates_into_the_other_versions_official_example_both_ways(string name)
    {
        var v221 = Example(name, OcpiVersion.V221);
        var v230 = Example(name, OcpiVersion.V230);
        Assert.True(JsonNode.DeepEquals(v230, Translate(v221, OcpiVersion.V221, OcpiVersion.V230)), $"2.2.1 -> 2.3.0 of {name}");
        Assert.True(JsonNode.DeepEquals(v221, Translate(v230, OcpiVersion.V230, OcpiVersion.V221)), $"2.3.0 -> 2.2.1 of {name}");
    }

    [Fact]
    public void North_American_tariffs_keep_the_amount_a_driver_pays_in_2_2_1()
    {
        // tax_included NO, no VAT percentage: 2.00 per hour, taxes added afterwards; 2.2.1 has prices excluding VAT only.
        var exclusive = Translate(Example("tariff_19_simple_north_american_exclusive", OcpiVersion.V230), OcpiVersion.V230, OcpiVersion.V221);
        Assert.Null(exclusive["tax_included"]);
        Assert.Equal(2.00m, exclusive["elements"]![0]!["price_components"]![0]!["price"]!.GetValue<decimal>());
        // tax_included YES without a percentage: the tax cannot be taken out, so the price stays what the driver pays.
        var inclusive = Translate(Example("tariff_20_simple_north_american_inclusive", OcpiVersion.V230), OcpiVersion.V230, OcpiVersion.V221);
        Assert.Null(inclusive["tax_included"]);
        Assert.Equal(2.10m, inclusive["elements"]![0]!["price_components"]![0]!["price"]!.GetValue<decimal>());
        // Back to 2.3.0 both say NO (2.2.1 prices exclude taxes): the "included" of tariff_20 is what is lost.
        Assert.Equal("NO", Translate(inclusive, OcpiVersion.V221, OcpiVersion.V230)["tax_included"]!.GetValue<string>());
    }

    [Fact]
    public void A_tax_inclusive_price_with_a_VAT_percentage_is_given_to_2_2_1_without_the_VAT()
    {
        var tariff = Example("tariff_1_simple_2hour", OcpiVersion.V230);
        tariff["tax_included"] = "YES";
        var component = tariff["elements"]![0]!["price_components"]![0]!.AsObject();
        var vat = component["vat"]!.GetValue<decimal>();
        var price = component["price"]!.GetValue<decimal>();
        var translated = Translate(tariff, OcpiVersion.V230, OcpiVersion.V221);
        Assert.Equal(Math.Round(price / (1 + vat / 100m), 4), translated["elements"]![0]!["price_components"]![0]!["price"]!.GetValue<decimal>());
    }

    [Fact]
    public void The_official_CDR_costs_translate_both_ways_and_several_taxes_sum_into_incl_vat()
    {
        var v221 = Example("cdr_example", OcpiVersion.V221);
        var v230 = Example("cdr_example", OcpiVersion.V230);
        var up = Translate(v221, OcpiVersion.V221, OcpiVersion.V230);
        var down = Translate(v230, OcpiVersion.V230, OcpiVersion.V221);
        foreach (var key in new[] { "total_cost", "total_time_cost" })
        {
            Assert.True(JsonNode.DeepEquals(v230[key], up[key]), $"2.2.1 -> 2.3.0 {key}: {up[key]}");
            Assert.True(JsonNode.DeepEquals(v221[key], down[key]), $"2.3.0 -> 2.2.1 {key}: {down[key]}");
        }

        // Quebec: GST and QST per jurisdiction become one incl_vat; names, account numbers and percentages are lost.
        var quebec = new JsonObject
        {
            ["total_cost"] = new JsonObject
            {
                ["before_taxes"] = 10.00m,
                ["taxes"] = new JsonArray(
                    new JsonObject { ["name"] = "GST", ["account_number"] = "123456789RT0001", ["percentage"] = 5.0m, ["amount"] = 0.50m },
                    new JsonObject { ["name"] = "QST", ["percentage"] = 9.975m, ["amount"] = 1.00m }),
            },
        };
        var cost = Translate(quebec, OcpiVersion.V230, OcpiVersion.V221)["total_cost"]!;
        Assert.Equal(10.00m, cost["excl_vat"]!.GetValue<decimal>());
        Assert.Equal(11.50m, cost["incl_vat"]!.GetValue<decimal>());

        // A 2.2.1 price with only excl_vat: 2.3.0 gets before_taxes and no taxes (unknown, not zero).
        var bare = Translate(new JsonObject { ["total_cost"] = new JsonObject { ["excl_vat"] = 4.0m } }, OcpiVersion.V221, OcpiVersion.V230)["total_cost"]!;
        Assert.Equal(4.0m, bare["before_taxes"]!.GetValue<decimal>());
        Assert.Null(bare["taxes"]);
    }
}
