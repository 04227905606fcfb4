using Xunit;

namespace PlugAndCharge.Pki.AzureKeyVault.Tests;

public class BearerChallengeTests
{
    [Fact]
    public void The_Key_Vault_challenge_forms_are_read()
    {
        var classic = BearerChallenge.Parse(["Bearer authorization=\"https://login.windows.net/72f988bf\", resource=\"https://vault.azure.net\""])!;
        Assert.Equal("https://login.windows.net/72f988bf", classic["authorization"]);
        Assert.Equal("https://vault.azure.net", classic["resource"]);

        var scoped = BearerChallenge.Parse(["Bearer authorization_uri=\"https://login.microsoftonline.com/t1\",scope=\"https://vault.azure.net/.default\""])!;
        Assert.Equal("https://vault.azure.net/.default", scoped["scope"]);
        Assert.Equal("https://login.microsoftonline.com/t1", scoped["authorization_uri"]);
    }

    [Fact]
    public void Only_the_Bearer_challenge_parameters_count()
    {
        var p = BearerChallenge.Parse(["PoP nonce=\"abc\", Bearer realm=\"\", resource=\"https://vault.azure.net\", Basic realm=\"other\""])!;
        Assert.Equal("https://vault.azure.net", p["resource"]);
        Assert.Equal("", p["realm"]);
        Assert.False(p.ContainsKey("nonce"));
        Assert.Null(BearerChallenge.Parse(["Basic realm=\"x\""]));
    }
}
