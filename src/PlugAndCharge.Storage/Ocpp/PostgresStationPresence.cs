using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Storage.Ocpp;

/// <summary>How instances find each other's stations (<see cref="PostgresStationPresence"/>).</summary>
public sealed class StationPresenceOptions
{
    /// <summary>How often an instance refreshes its row in ocpp_instances.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An instance that has not refreshed its row for this long holds no stations (it died or lost the database).</summary>
    public TimeSpan InstanceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What a caller waits beyond the station's own call timeout for the holder to relay the answer.</summary>
    public TimeSpan RelayMargin { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The stations of all instances on PostgreSQL (migration 0014): ocpp_station_sessions names the instance holding each
/// station's WebSocket, valid while that instance refreshes its ocpp_instances row. A command for a station held
/// elsewhere is a row of ocpp_station_commands plus a NOTIFY on the holder's channel; the holder claims it, calls the
/// station and writes the answer, then NOTIFYs the caller. No lock is held while anyone waits for a station. Each
/// instance LISTENs on one dedicated, non-pooled connection (the pool does not reset connections), reopened after a
/// database restart; lost notifications are covered by polling the command row and by re-reading pending commands
/// after every reconnect.
/// </summary>
public sealed class PostgresStationPresence(NpgsqlDataSource db, StationPresenceOptions options, ILogger<PostgresStationPresence> log) : IStationPresence
{
    private const string ChannelPrefix = "pnc_ocpp_";
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiting = new();
    private ConnectedStations? _local;
    private CancellationToken _stopping;

    /// <summary>This instance, for the lifetime of the process.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    private string Channel => ChannelPrefix + InstanceId;

    /// <summary>Completed once this instance LISTENs (again after a reconnect: a fresh task).</summary>
    public Task Listening => _listening.Task;
    private TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private double TimeoutSeconds => options.InstanceTimeout.TotalSeconds;

    /// <summary>Heartbeat and LISTEN until <paramref name="stopping"/>; <paramref name="local"/> runs the commands other instances relay here.</summary>
    public async Task RunAsync(ConnectedStations local, CancellationToken stopping)
    {
        _local = local;
        _stopping = stopping;
        await Task.WhenAll(HeartbeatAsync(stopping), ListenAsync(stopping));
    }

    /// <summary>A clean stop: this instance's stations are connected nowhere from now on (they reconnect elsewhere).</summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        await using var c = await db.ConnectAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "delete from ocpp_station_sessions where instance_id = @me; delete from ocpp_instances where instance_id = @me",
            new { me = InstanceId }, cancellationToken: ct));
    }

    public async Task ConnectedAsync(StationSession session, CancellationToken ct = default)
    {
        await using var c = await db.ConnectAsync(ct);
        // The newest connection wins: the row now names this instance, and an older holder is told to drop its connection.
        await c.ExecuteAsync(new CommandDefinition("""
            with prev as (select instance_id, connection_id from ocpp_station_sessions where station_id = @s for update),
            up as (
                insert into ocpp_station_sessions (station_id, instance_id, connection_id, ocpp_version) values (@s, @me, @c, @v)
                on conflict (station_id) do update set instance_id = excluded.instance_id, connection_id = excluded.connection_id,
                    ocpp_version = excluded.ocpp_version, connected_at = now()
                returning 1)
            select pg_notify(@prefix || prev.instance_id, 'close:' || @s || ':' || prev.connection_id::text || ':Replaced by a new connection of the same station.')
            from prev, up where prev.instance_id <> @me
            """, new { s = session.StationId, me = InstanceId, c = session.ConnectionId, v = session.Version.SubProtocol(), prefix = ChannelPrefix }, cancellationToken: ct));
    }

    public async Task DisconnectedAsync(StationSession session, CancellationToken ct = default)
    {
        await using var c = await db.ConnectAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("delete from ocpp_station_sessions where station_id = @s and connection_id = @c",
            new { s = session.StationId, c = session.ConnectionId }, cancellationToken: ct));
    }

    private sealed record SessionRow(string InstanceId, Guid ConnectionId, string OcppVersion);

    public async Task<RemoteStation?> LocateAsync(string stationId, CancellationToken ct = default)
    {
        await using var c = await db.ConnectAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition("""
            select s.instance_id as InstanceId, s.connection_id as ConnectionId, s.ocpp_version as OcppVersion
            from ocpp_station_sessions s join ocpp_instances i on i.instance_id = s.instance_id
            where s.station_id = @s and s.instance_id <> @me and i.heartbeat_at > now() - make_interval(secs => @ttl)
            """, new { s = stationId, me = InstanceId, ttl = TimeoutSeconds }, cancellationToken: ct));
        return row != null && OcppVersions.TryParse(row.OcppVersion, out var version)
            ? new RemoteStation(stationId, row.InstanceId, row.ConnectionId, version)
            : null;
    }

    private sealed record LocatedRow(string StationId, string InstanceId, Guid ConnectionId, string OcppVersion);

    public async Task<IReadOnlyDictionary<string, RemoteStation>> LocateAllAsync(IReadOnlyCollection<string> stationIds, CancellationToken ct = default)
    {
        await using var c = await db.ConnectAsync(ct);
        var rows = await c.QueryAsync<LocatedRow>(new CommandDefinition("""
            select s.station_id as StationId, s.instance_id as InstanceId, s.connection_id as ConnectionId, s.ocpp_version as OcppVersion
            from ocpp_station_sessions s join ocpp_instances i on i.instance_id = s.instance_id
            where s.station_id = any(@ids) and s.instance_id <> @me and i.heartbeat_at > now() - make_interval(secs => @ttl)
            """, new { ids = stationIds.ToArray(), me = InstanceId, ttl = TimeoutSeconds }, cancellationToken: ct));
        var found = new Dictionary<string, RemoteStation>(StringComparer.Ordinal);
        foreach (var r in rows)
            if (OcppVersions.TryParse(r.OcppVersion, out var version)) found[r.StationId] = new RemoteStation(r.StationId, r.InstanceId, r.ConnectionId, version);
        return found;
    }

    private sealed record CommandRow(string State, string? Result, string? Failure, string? ErrorCode, string? Message);

    public async Task<JsonElement> CallAsync(RemoteStation station, string action, JsonElement payload, bool native16, TimeSpan timeout, CancellationToken ct = default)
    {
        var id = Guid.NewGuid();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = answered;
        try
        {
            var deadline = timeout + options.RelayMargin;
            await using (var c = await db.ConnectAsync(ct))
                await c.ExecuteAsync(new CommandDefinition("""
                    with cmd as (
                        insert into ocpp_station_commands (command_id, station_id, caller_instance, holder_instance, action, payload, native16, timeout_ms, expires_at)
                        values (@id, @s, @me, @holder, @action, @payload, @native16, @ms, now() + make_interval(secs => @deadline))
                        returning holder_instance)
                    select pg_notify(@prefix || holder_instance, 'call:' || @id::text) from cmd
                    """, new
                {
                    id, s = station.StationId, me = InstanceId, holder = station.InstanceId, action, payload = payload.GetRawText(), native16,
                    ms = (int)Math.Ceiling(timeout.TotalMilliseconds), deadline = deadline.TotalSeconds, prefix = ChannelPrefix,
                }, cancellationToken: ct));

            // Wait for the holder's NOTIFY; read the row every second as well, in case a notification was lost.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            while (true)
            {
                var left = deadline - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (left > TimeSpan.Zero)
                {
                    try { await answered.Task.WaitAsync(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), ct); }
                    catch (TimeoutException) { }
                }
                await using var c = await db.ConnectAsync(ct);
                // A holder that died before it claimed the command never will: the station is connected nowhere (until it reconnects).
                await c.ExecuteAsync(new CommandDefinition("""
                    update ocpp_station_commands set state = 'done', failure = 'NotConnected', message = 'the instance holding the station stopped'
                    where command_id = @id and state = 'pending' and not exists (
                        select 1 from ocpp_instances i where i.instance_id = @holder and i.heartbeat_at > now() - make_interval(secs => @ttl))
                    """, new { id, holder = station.InstanceId, ttl = TimeoutSeconds }, cancellationToken: ct));
                if (left <= TimeSpan.Zero)
                {
                    // Nobody answered: a holder that never claimed the command must not run it later.
                    var gaveUp = await c.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                        "update ocpp_station_commands set state = 'done', failure = 'TimedOut' where command_id = @id and state <> 'done' returning state",
                        new { id }, cancellationToken: ct));
                    if (gaveUp != null)
                        throw new OcppCallFailedException(action, null, $"no answer through instance {station.InstanceId} within {deadline.TotalSeconds:0.#} s", OcppCallFailure.TimedOut);
                }
                var row = await c.QuerySingleOrDefaultAsync<CommandRow>(new CommandDefinition(
                    "delete from ocpp_station_commands where command_id = @id and state = 'done' returning state as State, result as Result, failure as Failure, error_code as ErrorCode, message as Message",
                    new { id }, cancellationToken: ct));
                if (row != null) return Outcome(action, row);
                if (left <= TimeSpan.Zero)
                    throw new OcppCallFailedException(action, null, $"no answer through instance {station.InstanceId} within {deadline.TotalSeconds:0.#} s", OcppCallFailure.TimedOut);
            }
        }
        finally
        {
            _waiting.TryRemove(id, out _);
        }
    }

    private static JsonElement Outcome(string action, CommandRow row)
    {
        if (row.Failure == null && row.Result != null)
        {
            using var doc = JsonDocument.Parse(row.Result);
            return doc.RootElement.Clone();
        }
        var failure = Enum.TryParse<OcppCallFailure>(row.Failure, out var f) ? f : OcppCallFailure.Refused;
        OcppErrorCode? code = Enum.TryParse<OcppErrorCode>(row.ErrorCode, out var e) ? e : null;
        throw new OcppCallFailedException(action, code, row.Message ?? "the holding instance gave no reason", failure);
    }

    public async Task DisconnectAsync(RemoteStation station, string reason, CancellationToken ct = default)
    {
        await using var c = await db.ConnectAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("select pg_notify(@channel, @payload)",
            new { channel = ChannelPrefix + station.InstanceId, payload = $"close:{station.StationId}:{station.ConnectionId}:{reason}" }, cancellationToken: ct));
    }

    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        var lastSweep = DateTimeOffset.MinValue;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var c = await db.ConnectAsync(stopping);
                var inserted = await c.QuerySingleAsync<bool>(new CommandDefinition(
                    "insert into ocpp_instances (instance_id) values (@me) on conflict (instance_id) do update set heartbeat_at = now() returning (xmax = 0)",
                    new { me = InstanceId }, cancellationToken: stopping));
                // Our row was gone (swept while the database was out of reach): announce our stations again, unless a
                // live instance got a newer connection of one meanwhile.
                if (inserted && _local != null)
                    foreach (var s in _local.Sessions)
                        await c.ExecuteAsync(new CommandDefinition("""
                            insert into ocpp_station_sessions (station_id, instance_id, connection_id, ocpp_version) values (@s, @me, @c, @v)
                            on conflict (station_id) do update set instance_id = excluded.instance_id, connection_id = excluded.connection_id, ocpp_version = excluded.ocpp_version
                            where not exists (select 1 from ocpp_instances i where i.instance_id = ocpp_station_sessions.instance_id
                                              and i.heartbeat_at > now() - make_interval(secs => @ttl))
                            """, new { s = s.StationId, me = InstanceId, c = s.ConnectionId, v = s.Version.SubProtocol(), ttl = TimeoutSeconds }, cancellationToken: stopping));
                if (DateTimeOffset.UtcNow - lastSweep > TimeSpan.FromSeconds(30))
                {
                    lastSweep = DateTimeOffset.UtcNow;
                    await c.ExecuteAsync(new CommandDefinition("""
                        delete from ocpp_instances where heartbeat_at < now() - make_interval(secs => @ttl * 6);
                        delete from ocpp_station_sessions s where not exists (select 1 from ocpp_instances i where i.instance_id = s.instance_id);
                        delete from ocpp_station_commands where expires_at < now() - interval '1 minute';
                        """, new { ttl = TimeoutSeconds }, cancellationToken: stopping));
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException && !stopping.IsCancellationRequested)
            {
                log.LogWarning("Instance {InstanceId}: heartbeat failed: {Error}", InstanceId, e.Message);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            try { await Task.Delay(options.HeartbeatInterval, stopping); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Its own physical connection: LISTEN is session state, and pooled connections are not reset on return.
                var settings = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false, KeepAlive = 5 };
                await using var template = db.CreateConnection();
                await using var c = template.CloneWith(settings.ConnectionString);
                await c.OpenAsync(stopping);
                c.Notification += (_, n) => OnNotification(n.Payload);
                await using (var listen = new NpgsqlCommand($"listen \"{Channel}\"", c))
                    await listen.ExecuteNonQueryAsync(stopping);
                _listening.TrySetResult();
                // Commands sent while we were not listening.
                foreach (var id in await c.QueryAsync<Guid>(new CommandDefinition(
                             "select command_id from ocpp_station_commands where holder_instance = @me and state = 'pending' and expires_at > now()",
                             new { me = InstanceId }, cancellationToken: stopping)))
                    _ = Task.Run(() => RunCommandAsync(id), CancellationToken.None);
                while (!stopping.IsCancellationRequested) await c.WaitAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or TimeoutException or InvalidOperationException)
            {
                if (_listening.Task.IsCompleted) _listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                log.LogWarning("Instance {InstanceId}: LISTEN connection lost, reconnecting: {Error}", InstanceId, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stopping); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private void OnNotification(string payload)
    {
        var parts = payload.Split(':', 4);
        switch (parts[0])
        {
            case "done" when parts.Length == 2 && Guid.TryParse(parts[1], out var done):
                if (_waiting.TryGetValue(done, out var waiter)) waiter.TrySetResult();
                break;
            case "call" when parts.Length == 2 && Guid.TryParse(parts[1], out var call):
                _ = Task.Run(() => RunCommandAsync(call), CancellationToken.None);
                break;
            case "close" when parts.Length == 4 && Guid.TryParse(parts[2], out var connection) && _local is { } local:
                _ = Task.Run(() => local.CloseConnectionAsync(parts[1], connection, parts[3]), CancellationToken.None);
                break;
        }
    }

    private sealed record ClaimedCommand(string StationId, string Action, string Payload, bool Native16, int TimeoutMs);

    /// <summary>The holder's side: claim the command (once), call the station, write the answer and wake the caller.</summary>
    private async Task RunCommandAsync(Guid id)
    {
        if (_local is not { } local) return;
        try
        {
            ClaimedCommand? cmd;
            await using (var c = await db.ConnectAsync(_stopping))
                cmd = await c.QuerySingleOrDefaultAsync<ClaimedCommand>(new CommandDefinition("""
                    update ocpp_station_commands set state = 'running'
                    where command_id = @id and holder_instance = @me and state = 'pending' and expires_at > now()
                    returning station_id as StationId, action as Action, payload as Payload, native16 as Native16, timeout_ms as TimeoutMs
                    """, new { id, me = InstanceId }, cancellationToken: _stopping));
            if (cmd == null) return;

            string? result = null, failure = null, code = null, message = null;
            try
            {
                using var doc = JsonDocument.Parse(cmd.Payload);
                var answer = await local.CallForPeerAsync(cmd.StationId, cmd.Action, doc.RootElement.Clone(), cmd.Native16, TimeSpan.FromMilliseconds(cmd.TimeoutMs), _stopping);
                result = answer.GetRawText();
            }
            catch (OcppCallFailedException e)
            {
                failure = e.Failure.ToString();
                code = e.Code?.ToString();
                var prefix = cmd.Action + ": ";
                message = e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
            }
            await using (var c = await db.ConnectAsync(_stopping))
                await c.ExecuteAsync(new CommandDefinition("""
                    with u as (
                        update ocpp_station_commands set state = 'done', result = @result, failure = @failure, error_code = @code, message = @message
                        where command_id = @id and state = 'running' returning caller_instance)
                    select pg_notify(@prefix || caller_instance, 'done:' || @id::text) from u
                    """, new { id, result, failure, code, message, prefix = ChannelPrefix }, cancellationToken: _stopping));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException or JsonException)
        {
            // The caller times out and says so; nothing else is left half done.
            log.LogWarning("Instance {InstanceId}: relayed command {CommandId} failed: {Error}", InstanceId, id, e.Message);
        }
    }
}
