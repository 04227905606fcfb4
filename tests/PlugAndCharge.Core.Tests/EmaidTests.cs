using PlugAndCharge.Tests;
using PlugAndCharge.Core.Identifiers;
using Xunit;

namespace PlugAndCharge.Core.Tests;

public class EmaidTests
{
    public static IEnumerable<object[]> CheckDigitVectors()
    {
        foreach (var line in File.ReadLines(TestPaths.Vector("emaid/check_digit_vectors.csv")).Skip(1))
        {
            var parts = line.Split(',');
            if (parts.Length == 3) yield return [parts[0], parts[1], parts[2][0]];
        }
    }

    [Theory]
    [MemberData(nameof(CheckDigitVectors))]
    public void Check_characters_match_the_published_vectors(string algorithm, string input, char expected)
    {
        var actual = algorithm == "DIN-SPEC-91286" ? ContractIdCheckCharacter.ComputeDin(input) : ContractIdCheckCharacter.ComputeIso(input);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("NN123ABCDEFGHIT", "NN123ABCDEFGHIT")]
    [InlineData("nn-123-abcdefghi-t", "NN123ABCDEFGHIT")]
    [InlineData("NN-123-ABCDEFGHI-T", "NN123ABCDEFGHIT")]
    public void Parses_with_and_without_separators_in_any_case(string text, string normalized)
    {
        var e = Emaid.Parse(text);
        Assert.Equal(normalized, e.Normalized);
        Assert.Equal("NN123", e.ProviderPrefix);
        Assert.True(e.CheckCharacterValid);
    }

    [Fact]
    public void Strict_refuses_a_wrong_check_character_lenient_records_it()
    {
        Assert.False(Emaid.TryParse("NN123ABCDEFGHIX", IdentifierStrictness.Strict, out _, out var error));
        Assert.Contains("check character", error);
        var lenient = Emaid.Parse("NN123ABCDEFGHIX", IdentifierStrictness.Lenient);
        Assert.False(lenient.CheckCharacterValid);
        Assert.False(Emaid.TryParse("NN123ABCDEFGHI", IdentifierStrictness.Strict, out _, out _));
        Assert.True(Emaid.TryParse("NN123ABCDEFGHI", IdentifierStrictness.Lenient, out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12ABCC12345678")]
    [InlineData("DEABC")]
    [InlineData("DE-ABC-C1234567$")]
    public void Refuses_malformed_input(string text) => Assert.False(Emaid.TryParse(text, IdentifierStrictness.Lenient, out _, out _));

    [Fact]
    public void Minted_emaids_carry_a_valid_check_character()
    {
        var e = Emaid.Create("DE", "8AA", "C00000001");
        Assert.Equal(15, e.Normalized.Length);
        Assert.True(Emaid.Parse(e.Normalized).CheckCharacterValid);
    }

    [Fact]
    public void Din_form_parses_with_star_separators()
    {
        var e = Emaid.Parse("INT*NM0*00071*9".Replace("NM0*00071", "NM*000071"));
        Assert.Equal(EmaidFormat.DinSpec91286, e.Format);
        Assert.Equal("INTNM000071", e.Normalized[..11]);
    }

    [Theory]
    [InlineData("DE*ABC*E123456", true)]
    [InlineData("DEABCE123456*1", true)]
    [InlineData("SECC_Cert", false)]
    [InlineData("DE*ABC*X123", false)]
    public void Evse_ids(string text, bool valid) => Assert.Equal(valid, EvseId.IsValid(text));
}
