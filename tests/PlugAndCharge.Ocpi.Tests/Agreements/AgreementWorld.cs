using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Storage.Ocpi;

namespace PlugAndCharge.Ocpi.Tests.Agreements;

/// <summary>
/// A hub on PostgreSQL (parties, tokens, command callbacks and roaming agreements) for the agreement tests. The tests
/// of one class share a database, so every party gets a party ID of its own.
/// </summary>
internal static class AgreementWorld
{
    private static int _next;

    /// <summary>A party ID no other test of the run uses: a letter and two base-36 digits.</summary>
    public static string NewPartyId(char kind)
    {
        var n = Interlocked.Increment(ref _next);
        const string digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        return $"{kind}{digits[n / 36 % 36]}{digits[n % 36]}";
    }

    public static void OnPostgres(IServiceCollection s, OcpiDatabaseFixture fx)
    {
        s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
        s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
        s.AddSingleton<ICommandCallbackStore>(new PostgresCommandCallbackStore(fx.Db));
        s.AddSingleton<IRoamingAgreementStore>(new PostgresRoamingAgreementStore(fx.Db));
    }

    public static Task<HubWorld> StartAsync(OcpiDatabaseFixture fx, RoamingDefault roamingDefault) =>
        HubWorld.StartAsync(o => o.RoamingDefault = roamingDefault, s => OnPostgres(s, fx));

    public static Task<RoamingAgreement> AgreeAsync(this HubHost hub, FakeParty cpo, FakeParty emsp, AgreementScope[]? scopes = null,
        DateTimeOffset? validFrom = null, DateTimeOffset? validTo = null) =>
        hub.Services.GetRequiredService<RoamingAgreementAdministration>().CreateAsync(new RoamingAgreementAdministration.NewAgreement(
            new RoamingParty(cpo.CountryCode, cpo.PartyId), new RoamingParty(emsp.CountryCode, emsp.PartyId),
            scopes ?? Enum.GetValues<AgreementScope>(), validFrom, validTo), "test");

    public static RoamingAgreementAdministration Agreements(this HubHost hub) => hub.Services.GetRequiredService<RoamingAgreementAdministration>();

    public static async Task<(int Status, string? Message, JsonNode? Data)> StatusAsync(this HttpResponseMessage r)
    {
        var e = await r.EnvelopeAsync();
        return (e["status_code"]!.GetValue<int>(), e["status_message"]?.GetValue<string>(), e["data"]);
    }

    public static Task<HttpResponseMessage> AuthorizeAsync(this FakeParty cpo, string uid, string type = "RFID") =>
        cpo.CallAsync(HttpMethod.Post, $"{cpo.Hub("tokens", "SENDER")}/{uid}/authorize?type={type}");

    public static Dictionary<string, string> ToHub(this FakeParty from) => new()
    {
        ["OCPI-from-country-code"] = from.CountryCode, ["OCPI-from-party-id"] = from.PartyId,
        ["OCPI-to-country-code"] = "DE", ["OCPI-to-party-id"] = "HUB",
    };
}
