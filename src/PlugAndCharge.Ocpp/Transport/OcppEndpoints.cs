using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>The OCPP-J surface: one WebSocket endpoint per station, <c>/ocpp/{stationId}</c>.</summary>
public static class OcppEndpoints
{
    public static IEndpointRouteBuilder MapOcppEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map("/ocpp/{stationId}", (HttpContext http, string stationId, StationConnectionEndpoint endpoint) => endpoint.AcceptAsync(http, stationId))
            .WithName("OcppStationConnection");
        return app;
    }
}

/// <summary>
/// Accepts a station's WebSocket: the station must be registered and authenticate by its security profile, and offer
/// one of our subprotocols (OCPP-J 2.0.1 §3.1.2: the newest common one is chosen); then its session runs until it closes.
/// Refusals are plain HTTP statuses before the upgrade: 400 (not OCPP-J), 404 (unknown station), 401/403 (auth), 429
/// (too many failed logins, with Retry-After), 403 for a disabled station once it has proven who it is, 503 with
/// Retry-After while the database cannot be reached (the station retries; it is not told its credentials are wrong).
/// </summary>
public sealed class StationConnectionEndpoint(
    IStationStore stations,
    StationAuthenticator authenticator,
    ConnectedStations connected,
    OcppDispatcher dispatcher,
    OcppSchemaCatalog schemas,
    OcppOptions options,
    StationThrottle throttle,
    StorageFaults faults,
    TimeProvider clock,
    ILoggerFactory logs)
{
    private readonly ILogger _log = logs.CreateLogger<StationConnectionEndpoint>();

    public async Task AcceptAsync(HttpContext http, string stationId)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Refuse(http, StatusCodes.Status400BadRequest, "OCPP-J needs a WebSocket upgrade.");
            return;
        }
        if (!StationIds.IsValid(stationId))
        {
            await Refuse(http, StatusCodes.Status400BadRequest, "Malformed station id.");
            return;
        }
        StationRecord? station;
        StationAuthentication auth;
        try
        {
            station = await stations.FindAsync(stationId, http.RequestAborted);
            auth = station == null ? StationAuthentication.Ok : await authenticator.AuthenticateAsync(http, station, http.RequestAborted);
        }
        catch (Exception e) when (faults.IsUnavailable(e) && !http.RequestAborted.IsCancellationRequested)
        {
            _log.LogWarning("Refused station {StationId} for now: the database is unavailable ({Error}).", stationId, e.Message);
            http.Response.Headers.RetryAfter = "1";
            await Refuse(http, StatusCodes.Status503ServiceUnavailable, "The service is temporarily unavailable; retry shortly.");
            return;
        }
        if (station == null)
        {
            _log.LogInformation("Refused unknown station {StationId} from {Remote}.", stationId, http.Connection.RemoteIpAddress);
            await Refuse(http, StatusCodes.Status404NotFound, "Unknown station.");
            return;
        }
        if (!auth.Succeeded)
        {
            _log.LogInformation("Refused station {StationId}: {Reason}", stationId, auth.Reason);
            if (auth.HttpStatus == StatusCodes.Status401Unauthorized && station.SecurityProfile == SecurityProfile.TlsWithBasicAuth)
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"OCPP\", charset=\"UTF-8\"";
            if (auth.HttpStatus == StatusCodes.Status429TooManyRequests)
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(throttle.LoginRetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Refuse(http, auth.HttpStatus, auth.Reason);
            return;
        }
        // Checked after authentication, so only the station itself learns it is disabled, and failed logins still count.
        if (station.Disabled)
        {
            _log.LogInformation("Refused station {StationId}: disabled since {DisabledAt} ({Reason}).", stationId, station.DisabledAt, station.DisabledReason ?? "no reason given");
            await Refuse(http, StatusCodes.Status403Forbidden, "The station is disabled by its operator.");
            return;
        }
        if (Negotiate(http.WebSockets.WebSocketRequestedProtocols) is not { } version)
        {
            await Refuse(http, StatusCodes.Status400BadRequest, "Sec-WebSocket-Protocol must offer ocpp2.1, ocpp2.0.1 or ocpp1.6.");
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = version.SubProtocol(), KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveInterval > TimeSpan.Zero ? options.KeepAliveTimeout : Timeout.InfiniteTimeSpan });
        var session = new StationSession(socket, station, version, dispatcher, schemas, options, logs.CreateLogger<StationSession>(), faults, clock);
        // This frame lives as long as the connection. Kestrel keeps the upgrade request's headers with it, the station's
        // Basic credentials among them, and this method's record of the login would stay beside the session's own:
        // neither is read again, so neither is kept (memory per station, and no password held for days).
        http.Request.Headers.Clear();
        station = null;
        await connected.AddAsync(session);
        _log.LogInformation("Station {StationId} connected with {SubProtocol}.", stationId, version.SubProtocol());
        try
        {
            if (await WithdrawnMeanwhileAsync(stationId, http.RequestAborted) is { } withdrawn)
            {
                _log.LogInformation("Station {StationId} closed right after login: {Reason}", stationId, withdrawn);
                await session.CloseAsync(WebSocketCloseStatus.PolicyViolation, withdrawn);
            }
            await session.RunAsync(http.RequestAborted);
        }
        finally
        {
            await connected.RemoveAsync(session);
            await session.DisposeAsync();
            _log.LogInformation("Station {StationId} disconnected.", stationId);
        }
    }

    /// <summary>
    /// Read again once the connection is registered: a disabling or deletion that committed after the look-up above may
    /// have searched for the connection before it was registered, and would have missed it. Either it finds the
    /// connection, or this read sees it. While the database is away the login stands (it was authenticated).
    /// </summary>
    private async Task<string?> WithdrawnMeanwhileAsync(string stationId, CancellationToken ct)
    {
        try
        {
            var now = await stations.FindAsync(stationId, ct);
            return now == null ? "The station's registration was deleted." : now.Disabled ? "The station was disabled by its operator." : null;
        }
        catch (Exception e) when (faults.IsUnavailable(e) || (e is OperationCanceledException && ct.IsCancellationRequested))
        {
            return null;
        }
    }

    internal static OcppVersion? Negotiate(IList<string> offered)
    {
        var versions = new HashSet<OcppVersion>();
        foreach (var o in offered)
            if (OcppVersions.TryParse(o, out var v)) versions.Add(v);
        foreach (var preferred in OcppVersions.Preference)
            if (versions.Contains(preferred)) return preferred;
        return null;
    }

    private static Task Refuse(HttpContext http, int status, string reason)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsync(reason);
    }
}
