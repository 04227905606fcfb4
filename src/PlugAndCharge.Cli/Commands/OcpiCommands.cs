using System.CommandLine;
using System.Globalization;
using PlugAndCharge.Ocpi;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Storage.Ocpi;

namespace PlugAndCharge.Cli.Commands;

/// <summary>
/// pnc ocpi agreement add|list|suspend|resume|end: the OCPI hub's roaming agreements, written to the database the
/// service uses (audited with the CLI user as actor). Running instances enforce a change within their refresh interval.
/// </summary>
internal static class OcpiCommands
{
    public static Command Create(CommonOptions common) => CommandLineUsage.Group("ocpi", "The OCPI hub.",
        CommandLineUsage.Group("agreement", "Roaming agreements between a CPO and an eMSP (which OCPI modules they exchange through the hub).",
            Add(common), List(common), Change(common, "suspend", "Suspends an agreement: the pair stops roaming until resumed.", AgreementStatus.Suspended),
            Change(common, "resume", "Makes a suspended agreement active again.", AgreementStatus.Active),
            Change(common, "end", "Ends an agreement for good (kept for the record; the pair may get a new one).", AgreementStatus.Ended)));

    private static Command Add(CommonOptions common)
    {
        var cpo = new Option<string>("--cpo") { Required = true, HelpName = "CC-PID", Description = "The CPO's OCPI country code and party ID, e.g. DE-ABC." };
        var emsp = new Option<string>("--emsp") { Required = true, HelpName = "CC-PID", Description = "The eMSP's OCPI country code and party ID, e.g. NL-XYZ." };
        var scopes = new Option<string>("--scopes")
        {
            HelpName = "LIST", DefaultValueFactory = _ => string.Join(",", Enum.GetValues<AgreementScope>().Select(AgreementText.Of)),
            Description = "Comma-separated: tokens, locations, tariffs, sessions, cdrs, commands, real-time-authorization, plug-and-charge (default: all).",
        };
        var from = new Option<DateTimeOffset?>("--valid-from") { HelpName = "TIME", Description = "Valid from (ISO 8601, UTC); default: now." };
        var to = new Option<DateTimeOffset?>("--valid-to") { HelpName = "TIME", Description = "Valid until (exclusive); default: open-ended." };
        var command = common.AddTo(new Command("add", "Records the agreement of a CPO and an eMSP.") { cpo, emsp, scopes, from, to });
        command.SetAction(async (r, ct) =>
        {
            var request = Guarded(() => new RoamingAgreementAdministration.NewAgreement(AgreementText.Party(r.GetValue(cpo)!), AgreementText.Party(r.GetValue(emsp)!),
                r.GetValue(scopes)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(AgreementText.Scope).ToList(),
                r.GetValue(from), r.GetValue(to)));
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var a = await GuardedAsync(() => Administration(env).CreateAsync(request, Program.Actor, ct));
            Print(r.Out(), a);
            return 0;
        });
        return command;
    }

    private static Command List(CommonOptions common)
    {
        var command = common.AddTo(new Command("list", "Lists the agreements: id, CPO, eMSP, status, validity, scopes, row version."));
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            foreach (var a in await Administration(env).ListAsync(ct)) Print(r.Out(), a);
            return 0;
        });
        return command;
    }

    private static Command Change(CommonOptions common, string name, string description, AgreementStatus status)
    {
        var id = new Argument<string>("id") { Description = "The agreement's id (pnc ocpi agreement list)." };
        var command = common.AddTo(new Command(name, description) { id });
        command.SetAction(async (r, ct) =>
        {
            await using var env = await PncEnvironment.OpenAsync(common.Read(r), r.Error(), ct);
            var a = await GuardedAsync(() => Administration(env).ChangeAsync(r.GetValue(id)!,
                new RoamingAgreementAdministration.AgreementChange(null, status), Program.Actor, ct));
            Print(r.Out(), a);
            return 0;
        });
        return command;
    }

    private static RoamingAgreementAdministration Administration(PncEnvironment env)
    {
        var store = new PostgresRoamingAgreementStore(env.Db);
        return new RoamingAgreementAdministration(store, new RoamingAgreementBook(store, new OcpiHubOptions(), TimeProvider.System), TimeProvider.System);
    }

    private static void Print(TextWriter output, RoamingAgreement a) => output.WriteLine(string.Join('\t', a.Id, $"CPO {a.Cpo}", $"eMSP {a.Emsp}",
        AgreementText.Of(a.Status), $"{Time(a.ValidFrom)}..{Time(a.ValidTo)}", string.Join(',', a.Scopes.Order().Select(AgreementText.Of)),
        "v" + a.RowVersion.ToString(CultureInfo.InvariantCulture)));

    private static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "";

    /// <summary>What the administration refuses is the user's mistake: one line, exit code 2.</summary>
    private static T Guarded<T>(Func<T> action)
    {
        try { return action(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    private static async Task<T> GuardedAsync<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or OcpiConflictException or OcpiConcurrencyException)
        {
            throw new UsageException(e.Message);
        }
    }
}
