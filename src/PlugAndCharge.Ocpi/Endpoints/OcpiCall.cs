using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.Ocpi.Endpoints;

/// <summary>One authenticated OCPI request: who called, on which version, with which correlation and routing headers.</summary>
internal sealed class OcpiCall
{
    public required HttpContext Http { get; init; }
    public required PartyRecord Party { get; init; }
    public required string PresentedToken { get; init; }
    public required OcpiVersion Version { get; init; }
    public required string CorrelationId { get; init; }
    public string? FromCountryCode { get; init; }
    public string? FromPartyId { get; init; }
    public string? ToCountryCode { get; init; }
    public string? ToPartyId { get; init; }

    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>The public URL of the OCPI root ("…/ocpi").</summary>
    public string BaseUrl => OcpiCalls.BaseUrl(Http);

    public async Task<byte[]> ReadBodyAsync()
    {
        using var ms = new MemoryStream();
        await Http.Request.Body.CopyToAsync(ms, Aborted);
        return ms.ToArray();
    }

    public Task WriteAsync(HubAnswer answer) => OcpiCalls.WriteAsync(Http, answer.HttpStatus, answer.Body);
}

internal enum OcpiAccess
{
    /// <summary>Token A or C (versions, version details, credentials).</summary>
    AnyToken,
    /// <summary>Token C of a registered party (functional modules).</summary>
    Registered,
}

internal static class OcpiCalls
{
    /// <summary>The configured public URL of the OCPI root: a request's Host header never makes it into a URL the hub hands out.</summary>
    public static string BaseUrl(HttpContext ctx) => ctx.RequestServices.GetRequiredService<OcpiHubOptions>().PublicBaseUri.AbsoluteUri.TrimEnd('/');

    /// <summary>
    /// Null when the request is for the configured base URL; else the HTTP status to refuse it with: 404 for another
    /// scheme (an https hub does not serve OCPI on a plain-HTTP listener at all), 421 Misdirected Request (RFC 9110
    /// §15.5.20) for another host or port.
    /// </summary>
    private static (int Http, string Message)? Misdirected(HttpRequest request, Uri baseUri)
    {
        if (!string.Equals(request.Scheme, baseUri.Scheme, StringComparison.OrdinalIgnoreCase))
            return (404, $"OCPI is served over {baseUri.Scheme} only.");
        var host = request.Host;
        var port = host.Port ?? (request.IsHttps ? 443 : 80);
        if (!host.HasValue || !string.Equals(host.Host, baseUri.Host, StringComparison.OrdinalIgnoreCase) || port != baseUri.Port)
            return (421, $"This hub answers OCPI requests for {baseUri.Authority} only.");
        return null;
    }

    public static async Task WriteAsync(HttpContext ctx, int status, byte[] body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    /// <summary>
    /// Runs an OCPI handler: echoes X-Request-ID, keeps or starts X-Correlation-ID, authenticates the credentials
    /// token (base64 or raw), and turns anything unexpected into an OCPI 3000 envelope instead of a bare 500.
    /// </summary>
    public static async Task RunAsync(HttpContext ctx, OcpiAccess access, Func<OcpiCall, Task> handler, bool versioned = true)
    {
        var headers = ctx.Request.Headers;
        var requestId = headers[OcpiHeaders.RequestId].ToString();
        var correlationId = headers[OcpiHeaders.CorrelationId].ToString();
        if (correlationId.Length == 0) correlationId = Guid.NewGuid().ToString();
        ctx.Response.Headers[OcpiHeaders.RequestId] = requestId.Length > 0 ? requestId : Guid.NewGuid().ToString();
        ctx.Response.Headers[OcpiHeaders.CorrelationId] = correlationId;
        try
        {
            if (Misdirected(ctx.Request, ctx.RequestServices.GetRequiredService<OcpiHubOptions>().PublicBaseUri) is { } refused)
            {
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ClientError, refused.Message, refused.Http);
                return;
            }
            var version = OcpiVersion.V230;
            if (versioned && !OcpiVersions.TryParse(ctx.Request.RouteValues["version"] as string, out version))
            {
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.UnsupportedVersion, "This hub speaks OCPI 2.2.1 and 2.3.0.", 404);
                return;
            }
            var directory = ctx.RequestServices.GetRequiredService<PartyDirectory>();
            PartyRecord? party = null;
            string presented = "";
            if (CredentialsTokens.TryRead(headers[OcpiHeaders.Authorization].ToString(), out var raw, out var decoded))
            {
                if (decoded != null && (party = await directory.FindByTokenHashAsync(CredentialsTokens.Hash(decoded), ctx.RequestAborted)) != null) presented = decoded;
                else if ((party = await directory.FindByTokenHashAsync(CredentialsTokens.Hash(raw), ctx.RequestAborted)) != null) presented = raw;
            }
            if (party is null)
            {
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ClientError, "Missing or unknown credentials token.", 401);
                return;
            }
            // A party the operator suspended is out of every module, the credentials module included: a credentials
            // PUT or POST must not reconnect it (only the operator's revoke-credentials and a new handshake with the
            // token A it hands out bring it back).
            if (party.Status == PartyStatus.Suspended)
            {
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ClientError, "This party is suspended by the hub operator.", 401);
                return;
            }
            if (access == OcpiAccess.Registered && !party.IsRegistered)
            {
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ClientError, "Register through the credentials module before using functional modules.", 401);
                return;
            }
            await handler(new OcpiCall
            {
                Http = ctx, Party = party, PresentedToken = presented, Version = version, CorrelationId = correlationId,
                FromCountryCode = Header(headers, OcpiHeaders.FromCountryCode), FromPartyId = Header(headers, OcpiHeaders.FromPartyId),
                ToCountryCode = Header(headers, OcpiHeaders.ToCountryCode), ToPartyId = Header(headers, OcpiHeaders.ToPartyId),
            });
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is left to answer.
        }
        catch (Exception e)
        {
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("PlugAndCharge.Ocpi").LogError(e, "OCPI request {Method} {Path} failed", ctx.Request.Method, ctx.Request.Path);
            if (!ctx.Response.HasStarted)
                await OcpiResponses.WriteStatusAsync(ctx, OcpiStatus.ServerError, "The hub could not handle this request.", 500);
        }
    }

    private static string? Header(IHeaderDictionary headers, string name)
    {
        var v = headers[name].ToString();
        return v.Length == 0 ? null : v;
    }
}
