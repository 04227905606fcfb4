using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.Ocpi.Endpoints;

/// <summary>
/// The hub's OCPI surface under /ocpi: versions, version details, credentials, hubclientinfo, tokens (both interfaces)
/// and the routed modules. Each module interface has its own URL: /ocpi/{version}/sender/{module} is where receivers
/// pull from the hub, /ocpi/{version}/receiver/{module} where senders push to it.
/// </summary>
public static class OcpiEndpoints
{
    public static IEndpointRouteBuilder MapOcpiEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/ocpi/versions", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.AnyToken, Versions, versioned: false));
        app.MapGet("/ocpi/{version}/details", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.AnyToken, Details));

        app.MapMethods("/ocpi/{version}/credentials", ["GET", "POST", "PUT", "DELETE"], ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.AnyToken, Credentials));

        app.MapGet("/ocpi/{version}/sender/hubclientinfo", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, ClientInfoList));

        // The hub's tokens sender interface is what a CPO pulls from and authorizes against (the CPO implements the
        // tokens receiver role): every eMSP's tokens are listed there, so no other party reads it.
        app.MapGet("/ocpi/{version}/sender/tokens", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, CpoOnly(TokenList)));
        app.MapPost("/ocpi/{version}/sender/tokens/{uid}/authorize", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, CpoOnly(Authorize)));
        app.MapMethods("/ocpi/{version}/receiver/tokens/{cc}/{pid}/{uid}", ["GET", "PUT", "PATCH"], ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, TokenPush));

        // Not an OCPI module: the caller's own roaming agreements as the hub enforces them (issue 24), with its token C.
        app.MapGet("/ocpi/{version}/hub/agreements", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, OwnAgreements));

        // The hub's one-time response_url of a forwarded command (see ModuleRouter.RelayCommandResultAsync).
        app.MapPost("/ocpi/{version}/hub/commandresult/{id}", ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, CommandResult));

        // No regex constraint: a slim host (CreateSlimBuilder) does not register it.
        app.MapMethods("/ocpi/{version}/sender/{module}/{**rest}", ["GET", "PUT", "PATCH", "POST", "DELETE"],
            ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, call => Route(call, InterfaceRoles.Sender)));
        app.MapMethods("/ocpi/{version}/receiver/{module}/{**rest}", ["GET", "PUT", "PATCH", "POST", "DELETE"],
            ctx => OcpiCalls.RunAsync(ctx, OcpiAccess.Registered, call => Route(call, InterfaceRoles.Receiver)));

        // Anything else under /ocpi still answers in OCPI's own form.
        app.Map("/ocpi/{**rest}", ctx => OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ClientError, "No such OCPI endpoint on this hub.", 404));
        return app;
    }

    private static Func<OcpiCall, Task> CpoOnly(Func<OcpiCall, Task> handler) => call =>
        call.Party.HasRole(Roles.Cpo)
            ? handler(call)
            // 401: the only refusal the official OpenAPI documents for these operations (besides 400/404).
            : OcpiResponses.WriteStatusAsync(call.Http, OcpiStatus.ClientError, "The hub's tokens sender interface serves CPOs only.", 401);

    private static readonly string[] RoutedModules = ["locations", "sessions", "cdrs", "tariffs", "commands", "chargingprofiles"];

    private static Task Versions(OcpiCall call)
    {
        var list = OcpiVersions.Supported.Select(v => new VersionEntry(v.ToText(), $"{call.BaseUrl}/{v.ToText()}/details")).ToList();
        return OcpiResponses.WriteAsync(call.Http, OcpiStatus.Success, list, OcpiJsonContext.Default.OcpiEnvelopeListVersionEntry);
    }

    private static Task Details(OcpiCall call)
    {
        var b = $"{call.BaseUrl}/{call.Version.ToText()}";
        var endpoints = new List<EndpointEntry>
        {
            new("credentials", InterfaceRoles.Sender, $"{b}/credentials"),
            new("credentials", InterfaceRoles.Receiver, $"{b}/credentials"),
            new("hubclientinfo", InterfaceRoles.Sender, $"{b}/sender/hubclientinfo"),
            new("tokens", InterfaceRoles.Sender, $"{b}/sender/tokens"),
            new("tokens", InterfaceRoles.Receiver, $"{b}/receiver/tokens"),
        };
        foreach (var m in RoutedModules)
        {
            endpoints.Add(new(m, InterfaceRoles.Sender, $"{b}/sender/{m}"));
            endpoints.Add(new(m, InterfaceRoles.Receiver, $"{b}/receiver/{m}"));
        }
        return OcpiResponses.WriteAsync(call.Http, OcpiStatus.Success, new VersionDetails(call.Version.ToText(), endpoints), OcpiJsonContext.Default.OcpiEnvelopeVersionDetails);
    }

    private static async Task Credentials(OcpiCall call)
    {
        var registration = call.Http.RequestServices.GetRequiredService<PartyRegistration>();
        var versionsUrl = $"{call.BaseUrl}/versions";
        var answer = call.Http.Request.Method switch
        {
            "GET" => await registration.CurrentAsync(call.Party, call.Version, call.PresentedToken, versionsUrl, call.Aborted),
            "POST" => await registration.RegisterAsync(call.Party, call.Version, await call.ReadBodyAsync(), call.CorrelationId, versionsUrl, call.Aborted),
            "PUT" => await registration.UpdateAsync(call.Party, call.Version, await call.ReadBodyAsync(), call.CorrelationId, versionsUrl, call.Aborted),
            _ => await registration.UnregisterAsync(call.Party, call.Aborted),
        };
        await call.WriteAsync(answer);
    }

    private static async Task ClientInfoList(OcpiCall call)
    {
        var options = call.Http.RequestServices.GetRequiredService<OcpiHubOptions>();
        if (!Pagination.TryRead(call.Http.Request.Query, options.MaxPageSize, out var page, out var error))
        {
            await OcpiResponses.WriteStatusAsync(call.Http, OcpiStatus.InvalidParameters, error);
            return;
        }
        var all = await call.Http.RequestServices.GetRequiredService<PartyDirectory>().AllAsync(call.Aborted);
        var agreements = call.Http.RequestServices.GetRequiredService<IRoamingAgreements>();
        // Only the parties the caller may reach: an eMSP without an agreement with a CPO does not see it (issue 24).
        var reachable = new List<ClientInfo>();
        foreach (var p in all)
            foreach (var r in p.Roles)
                if (p.Id == call.Party.Id || await agreements.MayReachAsync(call.Party.Roles, r, call.Aborted))
                    reachable.Add(new ClientInfo(r.PartyId, r.CountryCode, r.Role, ClientInfoPublisher.StatusText(p.Status), p.UpdatedAt));
        var infos = reachable
            .Where(i => call.Version == OcpiVersion.V221 || i.Role != Roles.Hub)
            .Where(i => page.DateFrom is not { } f || i.LastUpdated >= f)
            .Where(i => page.DateTo is not { } t || i.LastUpdated < t)
            .OrderBy(i => i.LastUpdated).ThenBy(i => i.CountryCode, StringComparer.Ordinal).ThenBy(i => i.PartyId, StringComparer.Ordinal)
            .ToList();
        var slice = infos.Skip(page.Offset).Take(page.Limit).ToList();
        page.WriteHeaders(call.Http.Response, $"{call.BaseUrl}/{call.Version.ToText()}/sender/hubclientinfo", infos.Count, slice.Count);
        await OcpiResponses.WriteAsync(call.Http, OcpiStatus.Success, slice, OcpiJsonContext.Default.OcpiEnvelopeListClientInfo);
    }

    private static async Task OwnAgreements(OcpiCall call)
    {
        var own = call.Party.Roles.Select(AgreementPair.Party).ToHashSet();
        var agreements = await call.Http.RequestServices.GetRequiredService<RoamingAgreementBook>().AllAsync(call.Aborted);
        var data = agreements.Where(a => own.Contains(a.Cpo) || own.Contains(a.Emsp)).Select(a => (JsonNode)new JsonObject
        {
            ["id"] = a.Id,
            ["cpo"] = new JsonObject { ["country_code"] = a.Cpo.CountryCode, ["party_id"] = a.Cpo.PartyId },
            ["emsp"] = new JsonObject { ["country_code"] = a.Emsp.CountryCode, ["party_id"] = a.Emsp.PartyId },
            ["status"] = AgreementText.Of(a.Status),
            ["valid_from"] = a.ValidFrom is { } f ? UtcTimestampConverter.Format(f) : null,
            ["valid_to"] = a.ValidTo is { } t ? UtcTimestampConverter.Format(t) : null,
            ["scopes"] = new JsonArray(a.Scopes.Order().Select(sc => (JsonNode)JsonValue.Create(AgreementText.Of(sc))!).ToArray()),
            ["last_updated"] = UtcTimestampConverter.Format(a.UpdatedAt),
        }).ToList();
        await OcpiResponses.WriteAsync(call.Http, OcpiStatus.Success, data, OcpiJsonContext.Default.OcpiEnvelopeListJsonNode);
    }

    private static async Task TokenList(OcpiCall call)
    {
        var services = call.Http.RequestServices;
        var options = services.GetRequiredService<OcpiHubOptions>();
        if (!Pagination.TryRead(call.Http.Request.Query, options.MaxPageSize, out var page, out var error))
        {
            await OcpiResponses.WriteStatusAsync(call.Http, OcpiStatus.InvalidParameters, error);
            return;
        }
        // Only tokens of the eMSPs whose roaming agreement with this CPO covers tokens.
        var owners = await services.GetRequiredService<TokenDistribution>().AgreedOwnersAsync(FromRole(call), call.Aborted);
        // OCPI-to-* naming the hub is a GET All via the hub (all agreed eMSPs' tokens); naming an eMSP, its tokens only.
        var hub = services.GetRequiredService<HubIdentity>();
        var toHub = string.Equals(call.ToCountryCode, hub.CountryCode, StringComparison.OrdinalIgnoreCase)
            && string.Equals(call.ToPartyId, hub.PartyId, StringComparison.OrdinalIgnoreCase);
        var result = await services.GetRequiredService<IOcpiTokenStore>().ListAsync(new TokenQuery(page.DateFrom, page.DateTo, page.Offset, page.Limit,
            toHub ? null : call.ToCountryCode, toHub ? null : call.ToPartyId, owners), call.Aborted);
        var data = result.Items.Select(t => (JsonNode)TokenTypeTranslation.ForVersion(JsonNode.Parse(t.Json)!.AsObject(), call.Version)).ToList();
        page.WriteHeaders(call.Http.Response, $"{call.BaseUrl}/{call.Version.ToText()}/sender/tokens", result.Total, data.Count);
        await OcpiResponses.WriteAsync(call.Http, OcpiStatus.Success, data, OcpiJsonContext.Default.OcpiEnvelopeListJsonNode);
    }

    private static async Task Authorize(OcpiCall call)
    {
        var relay = call.Http.RequestServices.GetRequiredService<AuthorizationRelay>();
        var uid = (string)call.Http.Request.RouteValues["uid"]!;
        var type = call.Http.Request.Query["type"].ToString();
        var from = FromRole(call);
        var answer = await relay.AuthorizeAsync(new AuthorizationRequest(call.Version, uid, type.Length == 0 ? TokenTypes.Rfid : type, await call.ReadBodyAsync(),
            call.CorrelationId, from?.CountryCode, from?.PartyId, call.ToCountryCode, call.ToPartyId), call.Aborted);
        await call.WriteAsync(answer.ToHubAnswer(call.Version, call.Http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()));
    }

    private static async Task TokenPush(OcpiCall call)
    {
        var distribution = call.Http.RequestServices.GetRequiredService<TokenDistribution>();
        var rv = call.Http.Request.RouteValues;
        var type = call.Http.Request.Query["type"].ToString();
        var push = new TokenDistribution.Push(call.Party, call.Version, (string)rv["cc"]!, (string)rv["pid"]!, (string)rv["uid"]!,
            type.Length == 0 ? null : type, await call.ReadBodyAsync(), call.CorrelationId);
        var answer = call.Http.Request.Method switch
        {
            "PUT" => await distribution.PutAsync(push, call.Aborted),
            "PATCH" => await distribution.PatchAsync(push, call.Aborted),
            _ => await distribution.GetAsync(push, call.Aborted),
        };
        await call.WriteAsync(answer);
    }

    private static async Task CommandResult(OcpiCall call)
    {
        var id = (string)call.Http.Request.RouteValues["id"]!;
        var answer = await call.Http.RequestServices.GetRequiredService<ModuleRouter>()
            .RelayCommandResultAsync(call.Party, id, call.Version, await call.ReadBodyAsync(), call.CorrelationId, call.Aborted);
        await OcpiCalls.WriteAsync(call.Http, answer.HttpStatus, answer.Body);
    }

    private static async Task Route(OcpiCall call, string iface)
    {
        var rv = call.Http.Request.RouteValues;
        var module = (string)rv["module"]!;
        if (!ModuleRouter.Modules.Contains(module))
        {
            await OcpiResponses.WriteStatusAsync(call.Http, OcpiStatus.ClientError, $"The hub does not route module '{module}'.", 404);
            return;
        }
        var rest = rv["rest"] as string;
        var options = call.Http.RequestServices.GetRequiredService<OcpiHubOptions>();
        Pagination? page = null;
        if (call.Http.Request.Method == "GET" && string.IsNullOrEmpty(rest))
        {
            if (!Pagination.TryRead(call.Http.Request.Query, options.MaxPageSize, out page, out var error))
            {
                await OcpiResponses.WriteStatusAsync(call.Http, OcpiStatus.InvalidParameters, error);
                return;
            }
        }
        var request = new RoutedRequest(call.Party, call.Version, iface, module, string.IsNullOrEmpty(rest) ? "" : "/" + rest,
            call.Http.Request.QueryString.Value ?? "", new HttpMethod(call.Http.Request.Method), await call.ReadBodyAsync(), call.CorrelationId,
            call.FromCountryCode, call.FromPartyId, call.ToCountryCode, call.ToPartyId,
            $"{call.BaseUrl}/{call.Version.ToText()}/{(iface == InterfaceRoles.Sender ? "sender" : "receiver")}/{module}", page);
        var answer = await call.Http.RequestServices.GetRequiredService<ModuleRouter>().RouteAsync(request, call.Aborted);
        var h = call.Http.Response.Headers;
        if (answer.TotalCount != null) h[OcpiHeaders.TotalCount] = answer.TotalCount;
        if (answer.Limit != null) h[OcpiHeaders.Limit] = answer.Limit;
        if (answer.Link != null) h[OcpiHeaders.Link] = answer.Link;
        await OcpiCalls.WriteAsync(call.Http, answer.HttpStatus, answer.Body);
    }

    /// <summary>The CPO role the request is from: its OCPI-from-* headers when they name a CPO role of the caller, else its first CPO role.</summary>
    private static PartyRole? FromRole(OcpiCall call) =>
        (call.FromCountryCode is { } cc && call.FromPartyId is { } pid ? call.Party.FindRole(cc, pid) : null) is { Role: Roles.Cpo } named
            ? named
            : call.Party.Roles.FirstOrDefault(r => r.Role == Roles.Cpo);
}
