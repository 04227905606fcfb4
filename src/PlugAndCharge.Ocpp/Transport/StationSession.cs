using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// One station's OCPP-J connection: reads frames, answers CALLs through the dispatcher, and sends our own CALLs with at
/// most one outstanding per direction (OCPP-J 2.0.1 §4.1.1 / 1.6 §4.1.1). Every inbound payload is validated against
/// its official schema before any handler sees it.
/// </summary>
public sealed class StationSession : IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly OcppDispatcher _dispatcher;
    private readonly OcppSchemaCatalog _schemas;
    private readonly OcppOptions _options;
    private readonly ILogger _log;
    private readonly StorageFaults _faults;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _outbound = new(1, 1);
    // Our one outstanding CALL (OCPP-J: one per direction), matched to its CALLRESULT by message id.
    private PendingCall? _pending;
    private readonly CancellationTokenSource _closed = new();
    private int _inboundBusy;
    private volatile StationRegistration _registration;
    // We sent a TriggerMessage on this connection: the message it asks for may come while Pending (B02.FR.09).
    private volatile bool _triggered;

    private sealed record PendingCall(string MessageId, string Action, TaskCompletionSource<JsonElement> Completion);

    private PendingCall? TakePending(string messageId)
    {
        var p = Volatile.Read(ref _pending);
        return p != null && p.MessageId == messageId && Interlocked.CompareExchange(ref _pending, null, p) == p ? p : null;
    }

    public StationSession(WebSocket socket, StationRecord station, OcppVersion version, OcppDispatcher dispatcher, OcppSchemaCatalog schemas, OcppOptions options, ILogger log,
        StorageFaults? faults = null, TimeProvider? clock = null)
    {
        _socket = socket; Station = station; Version = version; _dispatcher = dispatcher; _schemas = schemas; _options = options; _log = log;
        _faults = faults ?? new StorageFaults();
        _clock = clock ?? TimeProvider.System;
        _lastHeard = _clock.GetTimestamp();
    }

    private readonly TimeProvider _clock;
    private long _lastHeard;

    /// <summary>When the station last sent a message (a <see cref="TimeProvider"/> timestamp), for <see cref="SilentStationSweeper"/>.</summary>
    public long LastHeard => Volatile.Read(ref _lastHeard);

    public string StationId => Station.StationId;
    /// <summary>This connection, as the instances tell a station's successive connections apart.</summary>
    public Guid ConnectionId { get; } = Guid.NewGuid();
    public StationRecord Station { get; private set; }
    public OcppVersion Version { get; }
    public bool IsOpen => _socket.State == WebSocketState.Open && !_closed.IsCancellationRequested;
    /// <summary>Cancelled when the connection ends.</summary>
    public CancellationToken Closed => _closed.Token;

    internal void Refresh(StationRecord station) => Station = station;

    /// <summary>How this connection's last BootNotification was answered.</summary>
    public StationRegistration Registration => _registration;

    internal void Registered(StationRegistration registration)
    {
        _registration = registration;
        _triggered = false;
    }

    /// <summary>
    /// While Pending or Rejected a station may send nothing but BootNotification, and, while Pending, the message a
    /// TriggerMessage of ours asked for; anything else is answered SecurityError (OCPP 2.0.1 B02.FR.09, B03.FR.07; 1.6 §4.2).
    /// </summary>
    private string? RefusedBeforeAcceptance(string action) => _registration switch
    {
        _ when action == "BootNotification" => null,
        StationRegistration.Pending when _triggered && action is "SignCertificate" or "DataTransfer" => null,
        StationRegistration.Pending => $"{action} before the boot is accepted: the station is Pending and may only send BootNotification.",
        StationRegistration.Rejected => $"{action} from a rejected station: it may only send BootNotification after the interval.",
        _ => null,
    };

    private static bool IsTrigger(string action, object payload) =>
        action is "TriggerMessage" or "ExtendedTriggerMessage" || payload is Messages.DataTransferRequest { MessageId: "TriggerMessage" };

    /// <summary>Reads until the station closes, the host stops or the connection is replaced.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        // The host stopping or the connection aborting closes the session: the reads wait on the session's own token,
        // not on a linked source kept for each connection's life (tens of thousands of stations, docs/performance.md).
        using var stop = stopping.UnsafeRegister(static s => CancelQuietly((CancellationTokenSource)s!), _closed);
        var ct = _closed.Token;
        try
        {
            while (_socket.State == WebSocketState.Open && !ct.IsCancellationRequested)
            {
                // Wait for the next frame without a buffer: an idle station (nearly all of them, between heartbeats)
                // holds no receive buffer, which was 16 KB of each connected station's memory.
                var first = await _socket.ReceiveAsync(Memory<byte>.Empty, ct);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                    return;
                }
                if (!await ReceiveMessageAsync(first, ct)) return;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (WebSocketException e)
        {
            _log.LogInformation("Station {StationId}: connection lost ({Error}).", StationId, e.WebSocketErrorCode);
        }
        finally
        {
            await _closed.CancelAsync();
            if (Interlocked.Exchange(ref _pending, null) is { } p)
                p.Completion.TrySetException(new OcppCallFailedException(p.Action, null, "the station disconnected", OcppCallFailure.Disconnected));
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try { source.Cancel(); }
        catch (ObjectDisposedException) { } // the session has ended already
    }

    /// <summary>Reads the rest of a message whose first frame has arrived into a pooled buffer, and handles it; false once the connection is closing.</summary>
    private async Task<bool> ReceiveMessageAsync(ValueWebSocketReceiveResult first, CancellationToken ct)
    {
        Volatile.Write(ref _lastHeard, _clock.GetTimestamp());
        var readableAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var buffer = ArrayPool<byte>.Shared.Rent(4 * 1024);
        try
        {
            var length = 0;
            var r = first;
            while (!r.EndOfMessage)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= _options.MaxMessageBytes)
                    {
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {_options.MaxMessageBytes} bytes.");
                        return false;
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                r = await _socket.ReceiveAsync(buffer.AsMemory(length), ct);
                length += r.Count;
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                    return false;
                }
            }
            if (first.MessageType == WebSocketMessageType.Binary)
            {
                // OCPP-J carries JSON text frames only (2.0.1 §3.1.3).
                await SendAsync(OcppFrames.WriteCallError(OcppFrames.UnknownMessageId, OcppErrorCode.RpcFrameworkError, Version, "OCPP-J messages are text frames."), ct);
                return true;
            }
            // The frame is parsed (and its payload cloned) before the buffer goes back to the pool.
            await OnMessageAsync(buffer.AsMemory(0, length), readableAt, ct);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task OnMessageAsync(ReadOnlyMemory<byte> utf8, long readableAt, CancellationToken ct)
    {
        OcppFrame? frame;
        try
        {
            frame = OcppFrames.Parse(utf8, Version);
        }
        catch (OcppFrameException e)
        {
            _log.LogInformation("Station {StationId}: bad frame ({Code}: {Description}).", StationId, e.Code, e.Message);
            await SendAsync(OcppFrames.WriteCallError(e.MessageId, e.Code, Version, e.Message), ct);
            return;
        }

        switch (frame)
        {
            case CallFrame call:
                if (Interlocked.CompareExchange(ref _inboundBusy, 1, 0) != 0)
                {
                    // A station must wait for our answer before its next CALL; refuse rather than queue without bound.
                    await SendAsync(OcppFrames.WriteCallError(call.MessageId, OcppErrorCode.RpcFrameworkError, Version,
                        "A previous CALL is still being processed: one outstanding call per direction."), ct);
                    return;
                }
                // Off the read loop, so CALLRESULTs of our own outstanding call keep flowing while a handler runs.
                _ = Task.Run(() => AnswerAsync(call, readableAt, ct), CancellationToken.None);
                break;
            case CallResultFrame result:
                if (TakePending(result.MessageId) is { } pending) pending.Completion.TrySetResult(result.Payload);
                else _log.LogInformation("Station {StationId}: CALLRESULT for unknown message id {MessageId} ignored.", StationId, result.MessageId);
                break;
            case CallErrorFrame error:
                if (TakePending(error.MessageId) is { } failed)
                    failed.Completion.TrySetException(new OcppCallFailedException(failed.Action, OcppErrorCodes.FromWire(error.ErrorCode), $"{error.ErrorCode}: {error.Description}"));
                else _log.LogInformation("Station {StationId}: CALLERROR for unknown message id {MessageId} ignored.", StationId, error.MessageId);
                break;
        }
    }

    private async Task AnswerAsync(CallFrame call, long readableAt, CancellationToken ct)
    {
        byte[] reply;
        OcppCallContext? context = null;
        try
        {
            if (RefusedBeforeAcceptance(call.Action) is { } refusal) throw new OcppCallErrorException(OcppErrorCode.SecurityError, refusal);
            var payload = await InvokeAsync(call.Action, call.Payload, viaDataTransfer: false, ct, c => context = c);
            var json = OcppJson.Write(payload);
            if (_options.ValidateOwnResponses && _schemas.HasResponse(Version, call.Action)
                && _schemas.ValidateResponse(Version, call.Action, Encoding.UTF8.GetString(json)) is { } own)
                _log.LogWarning("Station {StationId}: our {Action} response breaks its schema: {Violation}", StationId, call.Action, own.Description);
            reply = OcppFrames.WriteCallResult(call.MessageId, json);
        }
        catch (OcppCallErrorException e)
        {
            reply = OcppFrames.WriteCallError(call.MessageId, e.Code, Version, e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Volatile.Write(ref _inboundBusy, 0);
            return;
        }
        catch (Exception e) when (_faults.IsUnavailable(e))
        {
            // A passing database fault: the station learns it may retry (OCPP-J 2.0.1 §4.3 InternalError, with a description).
            _log.LogWarning("Station {StationId}: {Action} failed, the database is unavailable: {Error}", StationId, call.Action, e.Message);
            reply = OcppFrames.WriteCallError(call.MessageId, OcppErrorCode.InternalError, Version, StorageFaults.Description);
            context = null;
        }
        catch (Exception e)
        {
            _log.LogError(e, "Station {StationId}: {Action} failed.", StationId, call.Action);
            reply = OcppFrames.WriteCallError(call.MessageId, OcppErrorCode.InternalError, Version, "The request could not be processed.");
            context = null;
        }

        // Free the inbound slot before the answer leaves: the station may send its next CALL the moment it reads it.
        Volatile.Write(ref _inboundBusy, 0);

        try
        {
            await SendAsync(reply, ct);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return;
        }
        OcppMetrics.CallAnswered(Version, call.Action, readableAt);

        if (context?.TakeAfterResponse() is { } after)
        {
            _ = Task.Run(async () =>
            {
                try { await after(CancellationToken.None); }
                catch (Exception e) { _log.LogError(e, "Station {StationId}: follow-up of {Action} failed.", StationId, call.Action); }
            }, CancellationToken.None);
        }
    }

    /// <summary>
    /// Validates <paramref name="payload"/> against the schema of <paramref name="action"/> for this station's version
    /// (for a 1.6 DataTransfer-wrapped message: the 2.0.1 schema), then runs its handler.
    /// </summary>
    internal async ValueTask<object> InvokeAsync(string action, JsonElement payload, bool viaDataTransfer, CancellationToken ct, Action<OcppCallContext>? onContext = null)
    {
        var version = viaDataTransfer ? OcppVersion.V201 : Version;
        if (!_dispatcher.TryGet(version, action, out var handler))
        {
            throw OcppActions.IsDefined(version, action)
                ? new OcppCallErrorException(OcppErrorCode.NotSupported, $"{action} is outside this certificate service's scope.")
                : new OcppCallErrorException(OcppErrorCode.NotImplemented, $"Unknown action {action}.");
        }
        if (_schemas.ValidateRequest(version, action, payload) is { } violation)
            throw new OcppCallErrorException(violation.Code, violation.Description);
        var context = new OcppCallContext(this, action, viaDataTransfer);
        onContext?.Invoke(context);
        return await handler(context, payload, ct);
    }

    /// <summary>
    /// Sends a CALL and waits for its CALLRESULT, whose payload is validated against the response schema. Calls queue
    /// behind each other: one outstanding call per direction.
    /// </summary>
    public async Task<JsonElement> CallAsync(string action, object payload, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var limit = timeout ?? _options.CallTimeout;
        // A rejected station is left alone until it boots again (OCPP 2.0.1 B03, 1.6 §4.2: the CSMS should not send to it).
        if (_registration == StationRegistration.Rejected)
            throw new OcppCallFailedException(action, null, "the station's boot was rejected", OcppCallFailure.Refused);
        if (IsTrigger(action, payload)) _triggered = true;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _closed.Token);
        linked.CancelAfter(limit);
        try
        {
            await _outbound.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw IsOpen
                ? new OcppCallFailedException(action, null, "timed out waiting for the previous call", OcppCallFailure.TimedOut)
                : new OcppCallFailedException(action, null, "the station is not connected", OcppCallFailure.Disconnected);
        }
        var id = Guid.NewGuid().ToString("N");
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            Volatile.Write(ref _pending, new PendingCall(id, action, completion));
            await SendAsync(OcppFrames.WriteCall(id, action, OcppJson.Write(payload)), linked.Token);
            JsonElement result;
            try
            {
                result = await completion.Task.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw IsOpen
                    ? new OcppCallFailedException(action, null, $"no answer within {limit.TotalSeconds:0.#} s", OcppCallFailure.TimedOut)
                    : new OcppCallFailedException(action, null, "the station disconnected", OcppCallFailure.Disconnected);
            }
            if (_schemas.HasResponse(Version, action) && _schemas.ValidateResponse(Version, action, result) is { } violation)
                throw new OcppCallFailedException(action, violation.Code, "the station's answer breaks the schema: " + violation.Description);
            return result;
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
        {
            throw new OcppCallFailedException(action, null, "the station disconnected", OcppCallFailure.Disconnected);
        }
        finally
        {
            TakePending(id);
            _outbound.Release();
        }
    }

    private async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Ends the connection (e.g. when the same station connects again).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(status, reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        await _closed.CancelAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
        _socket.Dispose();
        _closed.Dispose();
    }

    public override string ToString() => $"{StationId} ({Version.SubProtocol()})";
}
