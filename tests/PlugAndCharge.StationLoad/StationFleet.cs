using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace PlugAndCharge.StationLoad;

/// <summary>How the fleet connects: where, from which loopback addresses, how fast, how long a call may take.</summary>
public sealed record FleetOptions
{
    /// <summary>wss://host:port/ocpp/ (the station id is appended).</summary>
    public required Uri Endpoint { get; init; }
    public required X509Certificate2 TlsCa { get; init; }
    /// <summary>Source addresses 127.0.0.2 … (each has its own ~28,000 ephemeral ports toward one server port).</summary>
    public int SourceAddresses { get; init; } = 8;
    public int ConnectConcurrency { get; init; } = 200;
    public double RampPerSecond { get; init; } = 500;
    /// <summary>Heartbeat interval instead of the one BootNotification hands out.</summary>
    public int? HeartbeatSeconds { get; init; }
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Reconnection back-off as OCPP 2.0.1's OCPPCommCtrlr.RetryBackOff* variables describe it.</summary>
    public TimeSpan RetryMinimum { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryRandomRange { get; init; } = TimeSpan.FromSeconds(2);
    public int RetryRepeatTimes { get; init; } = 3;
}

/// <summary>A CALLRESULT's payload, or why there is none (a CALLERROR's code, a timeout, a closed connection).</summary>
public readonly record struct CallAnswer(JsonElement Payload, string? Error);

/// <summary>
/// N stations over TLS with security profile 2 (Basic auth, OCPP 2.0.1 A00.FR.2xx/B00): connects them at a ramp with
/// bounded concurrency from many loopback source addresses, boots them (honouring Pending/Rejected and their interval,
/// B02.FR.xx/B03.FR.xx), sends their heartbeats and reconnects them from one scheduler, answers the CSMS's calls with a
/// CALLERROR, and sends calls at fixed rates across the booted ones.
/// </summary>
public sealed class StationFleet : IAsyncDisposable
{
    private enum Job { Heartbeat, Boot, Reconnect }

    private static readonly byte[] BootPayload = """{"reason":"PowerUp","chargingStation":{"model":"StationLoad","vendorName":"PlugAndCharge"}}"""u8.ToArray();
    private static readonly byte[] EmptyPayload = "{}"u8.ToArray();

    private readonly FleetOptions _options;
    private readonly HttpMessageInvoker _invoker;
    private readonly IPAddress[] _sources;
    private readonly SemaphoreSlim _connectSlots;
    private readonly ConcurrentDictionary<long, (Station Station, TaskCompletionSource<CallAnswer> Answer)> _pending = new();
    private readonly PriorityQueue<(Station Station, int Epoch, Job Job), long> _schedule = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _scheduler;
    private long _nextMessageId;
    private int _nextSource, _booted, _bootedSinceMark;
    private string? _trustedServerCertificate;

    public IReadOnlyList<Station> Stations { get; }
    public Measurements Measured { get; } = new();
    public ConcurrentDictionary<string, int> CsmsCalls { get; } = new(StringComparer.Ordinal);
    public int BootsPending, BootsRejected, BootsAccepted;
    /// <summary>Calls of the rate streams not sent because their station was not booted (after a restart).</summary>
    public int NotSentNotBooted;
    /// <summary>Connect and boot durations are recorded under this name ("connect", "reconnect" …).</summary>
    public string Phase { get; set; } = "initial";

    public int Booted => Volatile.Read(ref _booted);
    public int BootedSinceMark => Volatile.Read(ref _bootedSinceMark);
    /// <summary>When (Environment.TickCount64) the first connection since the last mark was upgraded; 0 before.</summary>
    public long FirstConnectedSinceMark;

    public StationFleet(IReadOnlyList<Station> stations, FleetOptions options)
    {
        Stations = stations;
        _options = options;
        _sources = [.. Enumerable.Range(0, options.SourceAddresses).Select(i => new IPAddress([127, 0, (byte)(i / 250), (byte)(2 + i % 250)]))];
        _connectSlots = new SemaphoreSlim(options.ConnectConcurrency);
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(15),
            ConnectCallback = ConnectFromNextSourceAsync,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustsServer },
        });
        _scheduler = Task.Run(ScheduleLoopAsync);
    }

    /// <summary>Connects and boots every station: a new connection every 1/ramp s, at most ConnectConcurrency at once.</summary>
    public async Task ConnectAllAsync(TimeSpan timeout)
    {
        var start = Environment.TickCount64;
        var attempts = new List<Task>(Stations.Count);
        for (var i = 0; i < Stations.Count; i++)
        {
            var due = start + (long)(i * 1000 / _options.RampPerSecond);
            var wait = due - Environment.TickCount64; // read once: the clock moves between two reads
            if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
            attempts.Add(ConnectAndBootAsync(Stations[i]));
        }
        await Task.WhenAll(attempts);
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Booted < Stations.Count && Environment.TickCount64 < deadline) await Task.Delay(100);
    }

    /// <summary>
    /// After the next <see cref="Mark"/>, the first <paramref name="count"/> stations to boot again each send one
    /// Authorize at once (a driver waiting at each of them): how soon a restarted instance serves the first stations
    /// back, whatever share of the fleet is back yet. Latency from the station's reconnection to Accepted goes to
    /// "first back: reconnection to Authorize Accepted"; the earliest Accepted to <see cref="FirstBackAuthorizedAt"/>.
    /// </summary>
    public void AuthorizeFirstBack(int count, IReadOnlyList<byte[]> payloads, Func<JsonElement, string?> accepted) =>
        _firstBack = new FirstBack(count, payloads, accepted);

    private sealed record FirstBack(int Count, IReadOnlyList<byte[]> Payloads, Func<JsonElement, string?> Accepted);

    private FirstBack? _firstBack;

    /// <summary>When (Environment.TickCount64) the first of the first-back Authorize calls was answered Accepted; 0 before.</summary>
    public long FirstBackAuthorizedAt;

    private async Task AuthorizeFirstBackAsync(Station s, FirstBack first)
    {
        var (_, payloads, accepted) = first;
        while (!s.TryBeginCall()) await Task.Delay(1);
        var answer = await CallAsync(s, "Authorize", payloads[s.Index % payloads.Count]);
        s.EndCall();
        if (answer.Error != null) { Measured.Error($"first back Authorize: {answer.Error}"); return; }
        if (accepted(answer.Payload) is { } refused) { Measured.Error($"first back Authorize: {refused}"); return; }
        var now = Environment.TickCount64;
        Measured.Of("first back: reconnection to Authorize Accepted").Add(now - s.ConnectedAt);
        Interlocked.CompareExchange(ref FirstBackAuthorizedAt, now, 0);
    }

    /// <summary>From now on count the stations that boot again (e.g. after the instance was killed).</summary>
    public void Mark()
    {
        foreach (var s in Stations) s.BootedSinceMark = false;
        Volatile.Write(ref _bootedSinceMark, 0);
        Volatile.Write(ref FirstConnectedSinceMark, 0);
        Volatile.Write(ref FirstBackAuthorizedAt, 0);
    }

    private async Task ConnectAndBootAsync(Station s)
    {
        await _connectSlots.WaitAsync(_stop.Token);
        try
        {
            if (s.State != StationState.Disconnected) return;
            s.State = StationState.Connecting;
            var epoch = Interlocked.Increment(ref s.Epoch);
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("ocpp2.0.1");
            socket.Options.SetRequestHeader("Authorization", s.Authorization);
            socket.Options.KeepAliveInterval = TimeSpan.Zero; // the service pings (its KeepAliveInterval); pongs answer it
            socket.Options.CollectHttpResponseDetails = true;
            s.ConnectStartedAt = Environment.TickCount64;
            var connect = Stopwatch();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                await socket.ConnectAsync(new Uri(_options.Endpoint, Uri.EscapeDataString(s.Id)), _invoker, timeout.Token);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                Measured.Error($"{Phase} connect: {ConnectFailure(socket, e)}");
                socket.Dispose();
                Disconnected(s, epoch, socket: null);
                return;
            }
            Measured.Of($"{Phase} connect (TCP+TLS+upgrade)").Add(connect.ElapsedMilliseconds());
            s.ConnectedAt = Environment.TickCount64;
            Interlocked.CompareExchange(ref FirstConnectedSinceMark, s.ConnectedAt, 0);
            s.Attach(socket);
            s.ReconnectAttempts = 0;
            s.State = StationState.Booting;
            _ = ReceiveLoopAsync(s, socket, epoch);
            await BootAsync(s, epoch);
        }
        finally { _connectSlots.Release(); }
    }

    /// <summary>BootNotification; Pending and Rejected retry after the interval the answer gives, plus the station's jitter.</summary>
    private async Task BootAsync(Station s, int epoch)
    {
        while (!s.TryBeginCall()) await Task.Delay(10); // a call of the previous connection still ending
        var clock = Stopwatch();
        var answer = await CallAsync(s, "BootNotification", BootPayload);
        s.EndCall();
        if (epoch != Volatile.Read(ref s.Epoch)) return;
        if (answer.Error != null)
        {
            Measured.Error($"{Phase} BootNotification: {answer.Error}");
            await CloseAsync(s); // a station that cannot boot reconnects
            return;
        }
        var status = answer.Payload.TryGetProperty("status", out var st) ? st.GetString() : null;
        var interval = answer.Payload.TryGetProperty("interval", out var iv) && iv.TryGetInt32(out var seconds) ? seconds : 0;
        if (status == "Accepted")
        {
            Measured.Of($"{Phase} boot answer").Add(clock.ElapsedMilliseconds());
            // From the connection attempt to Accepted, the Pending rounds included.
            Measured.Of($"{Phase} connected and booted").Add(Environment.TickCount64 - s.ConnectStartedAt);
            Interlocked.Increment(ref BootsAccepted);
            s.HeartbeatSeconds = _options.HeartbeatSeconds ?? (interval > 0 ? interval : 300);
            s.State = StationState.Booted;
            Interlocked.Increment(ref _booted);
            if (!s.BootedSinceMark)
            {
                s.BootedSinceMark = true;
                if (Interlocked.Increment(ref _bootedSinceMark) <= (_firstBack?.Count ?? 0)) _ = AuthorizeFirstBackAsync(s, _firstBack!);
            }
            At(s, epoch, Job.Heartbeat, s.HeartbeatSeconds * 1000L);
            return;
        }
        Interlocked.Increment(ref status == "Pending" ? ref BootsPending : ref BootsRejected);
        // B02.FR.01 / B03.FR.01: no other messages until Accepted; boot again after the interval (else a default of 10 s).
        var wait = (interval > 0 ? interval : 10) * 1000L;
        At(s, epoch, Job.Boot, wait + Random.Shared.NextInt64(0, Math.Max(1000, wait / 4)));
    }

    private async Task ReceiveLoopAsync(Station s, ClientWebSocket socket, int epoch)
    {
        var buffer = Array.Empty<byte>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // Wait for the next frame without holding a buffer (a zero-byte read), then take one from the pool.
                var first = await socket.ReceiveAsync(Memory<byte>.Empty, _stop.Token);
                if (first.MessageType == WebSocketMessageType.Close) break;
                buffer = ArrayPool<byte>.Shared.Rent(8192);
                var length = 0;
                var end = first.EndOfMessage;
                while (!end)
                {
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var r = await socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    if (r.MessageType == WebSocketMessageType.Close) return;
                    length += r.Count;
                    end = r.EndOfMessage;
                }
                await OnMessageAsync(s, buffer.AsMemory(0, length));
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = [];
            }
        }
        catch (Exception) { }
        finally
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
            Disconnected(s, epoch, socket);
        }
    }

    private async Task OnMessageAsync(Station s, ReadOnlyMemory<byte> message)
    {
        using var doc = JsonDocument.Parse(message);
        var root = doc.RootElement;
        var type = root[0].GetInt32();
        var id = root[1].GetString()!;
        if (type == 2)
        {
            // A call relayed by the CSMS: answered at once so the service never waits (OCPP-J §4.2.3 CALLERROR).
            CsmsCalls.AddOrUpdate(root[2].GetString() ?? "?", 1, (_, n) => n + 1);
            var error = Encoding.UTF8.GetBytes($"[4,{JsonSerializer.Serialize(id)},\"NotImplemented\",\"not implemented by the load generator\",{{}}]");
            try { await s.SendAsync(error, _stop.Token); } catch (Exception) { }
            return;
        }
        if (!long.TryParse(id, out var messageId) || !_pending.TryRemove(messageId, out var call)) return;
        call.Answer.TrySetResult(type == 3 ? new CallAnswer(root[2].Clone(), null) : new CallAnswer(default, "CALLERROR " + root[2].GetString()));
    }

    /// <summary>One CALL and its answer (or the reason there is none).</summary>
    public async Task<CallAnswer> CallAsync(Station s, string action, byte[] payload)
    {
        var id = Interlocked.Increment(ref _nextMessageId);
        var answer = new TaskCompletionSource<CallAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (s, answer);
        var (frame, length) = Station.CallFrame(id, action, payload);
        try { await s.SendAsync(frame.AsMemory(0, length), _stop.Token); }
        catch (Exception e)
        {
            _pending.TryRemove(id, out _);
            return new CallAnswer(default, "not sent: " + e.GetType().Name);
        }
        finally { ArrayPool<byte>.Shared.Return(frame); }
        try { return await answer.Task.WaitAsync(_options.CallTimeout, _stop.Token); }
        catch (TimeoutException)
        {
            _pending.TryRemove(id, out _);
            return new CallAnswer(default, $"no answer within {_options.CallTimeout.TotalSeconds:F0} s");
        }
        catch (OperationCanceledException) { return new CallAnswer(default, "stopped"); }
    }

    /// <summary>
    /// <paramref name="action"/> at <paramref name="rate"/>/s across the fleet for <paramref name="duration"/>, open loop
    /// (a slow answer does not slow the schedule), the stations in turn, payloads in turn. Latencies of answered
    /// calls go to <paramref name="label"/>; an answer <paramref name="accepted"/> refuses counts as an error.
    /// </summary>
    public async Task RunRateAsync(string label, string action, double rate, IReadOnlyList<byte[]> payloads, Func<JsonElement, string?> accepted,
        TimeSpan duration, Action<long>? onAccepted = null, CancellationToken stop = default)
    {
        if (rate <= 0 || payloads.Count == 0) return;
        var latency = Measured.Of(label);
        var clock = Stopwatch();
        var calls = new List<Task>();
        long sent = 0;
        var cursor = 0;
        while (clock.ElapsedMilliseconds() < duration.TotalMilliseconds && !stop.IsCancellationRequested)
        {
            var due = (long)(clock.ElapsedMilliseconds() / 1000 * rate);
            for (; sent < due; sent++)
            {
                // The stations' own calls: one that is not booted sends nothing, so the rate follows the booted share
                // of the fleet (as after a restart); one with a call outstanding passes its turn to the next.
                Station? station = null;
                for (var tries = 0; tries < 8 && station == null; tries++)
                {
                    var s = Stations[cursor++ % Stations.Count];
                    if (s.State != StationState.Booted) { Interlocked.Increment(ref NotSentNotBooted); tries = 8; }
                    else if (s.TryBeginCall()) station = s;
                }
                if (station == null) continue;
                calls.Add(OneAsync(station, payloads[(int)(sent % payloads.Count)]));
            }
            await Task.Delay(2, CancellationToken.None);
        }
        await Task.WhenAll(calls);

        async Task OneAsync(Station s, byte[] payload)
        {
            var t0 = Stopwatch();
            var answer = await CallAsync(s, action, payload);
            s.EndCall();
            if (answer.Error != null) { Measured.Error($"{label}: {answer.Error}"); return; }
            latency.Add(t0.ElapsedMilliseconds());
            if (accepted(answer.Payload) is { } refused) Measured.Error($"{label}: {refused}");
            else onAccepted?.Invoke(Environment.TickCount64);
        }
    }

    /// <summary>Closes every connection (a normal closure); the stations stay disconnected.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(Stations.Select(s => s.Socket).OfType<ClientWebSocket>().Select(async w =>
        {
            try { await w.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "load done", new CancellationTokenSource(2000).Token); } catch (Exception) { }
            w.Dispose();
        }));
        try { await _scheduler; } catch (OperationCanceledException) { }
        _invoker.Dispose();
    }

    private async Task CloseAsync(Station s)
    {
        try { if (s.Socket is { } w) await w.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "boot failed", _stop.Token); }
        catch (Exception) { s.Socket?.Abort(); }
    }

    private void Disconnected(Station s, int epoch, ClientWebSocket? socket)
    {
        if (epoch != Volatile.Read(ref s.Epoch) || _stop.IsCancellationRequested) return;
        if (s.State == StationState.Booted) Interlocked.Decrement(ref _booted);
        s.State = StationState.Disconnected;
        socket?.Dispose();
        foreach (var (id, call) in _pending)
            if (call.Station == s && _pending.TryRemove(id, out _)) call.Answer.TrySetResult(new CallAnswer(default, "connection lost"));
        // OCPP 2.0.1 B.10 (RetryBackOffWaitMinimum, RetryBackOffRandomRange, RetryBackOffRepeatTimes): the minimum,
        // doubled on each failed attempt up to RepeatTimes, plus a random share of the range.
        var wait = (long)_options.RetryMinimum.TotalMilliseconds << Math.Min(s.ReconnectAttempts++, _options.RetryRepeatTimes);
        At(s, epoch, Job.Reconnect, wait + Random.Shared.NextInt64(0, (long)_options.RetryRandomRange.TotalMilliseconds + 1));
    }

    private void At(Station s, int epoch, Job job, long inMs)
    {
        lock (_schedule) _schedule.Enqueue((s, epoch, job), Environment.TickCount64 + inMs);
    }

    /// <summary>The one scheduler: heartbeats, boot retries and reconnections of all stations, no timer per station.</summary>
    private async Task ScheduleLoopAsync()
    {
        var due = new List<(Station Station, int Epoch, Job Job)>();
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(20, _stop.Token);
            var now = Environment.TickCount64;
            lock (_schedule)
                while (_schedule.TryPeek(out var item, out var at) && at <= now) { _schedule.Dequeue(); due.Add(item); }
            foreach (var (s, epoch, job) in due)
            {
                if (epoch != Volatile.Read(ref s.Epoch)) continue;
                switch (job)
                {
                    case Job.Heartbeat when s.State == StationState.Booted:
                        _ = HeartbeatAsync(s, epoch);
                        break;
                    case Job.Boot when s.State == StationState.Booting:
                        _ = BootAsync(s, epoch);
                        break;
                    case Job.Reconnect when s.State == StationState.Disconnected:
                        _ = ConnectAndBootAsync(s);
                        break;
                }
            }
            due.Clear();
        }
    }

    private async Task HeartbeatAsync(Station s, int epoch)
    {
        if (!s.TryBeginCall())
        {
            At(s, epoch, Job.Heartbeat, 1000); // after the call it has outstanding
            return;
        }
        At(s, epoch, Job.Heartbeat, s.HeartbeatSeconds * 1000L);
        var clock = Stopwatch();
        var answer = await CallAsync(s, "Heartbeat", EmptyPayload);
        s.EndCall();
        if (answer.Error != null) Measured.Error("Heartbeat: " + answer.Error);
        else Measured.Of("Heartbeat").Add(clock.ElapsedMilliseconds());
    }

    private async ValueTask<Stream> ConnectFromNextSourceAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var source = _sources[(int)((uint)Interlocked.Increment(ref _nextSource) % _sources.Length)];
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The service's certificate chains to the cluster's TLS CA; checked once, then recognised by its thumbprint.</summary>
    private bool TrustsServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate == null) return false;
        var thumbprint = certificate.GetCertHashString();
        if (thumbprint == Volatile.Read(ref _trustedServerCertificate)) return true;
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.Add(_options.TlsCa);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!own.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()))) return false;
        Volatile.Write(ref _trustedServerCertificate, thumbprint);
        return true;
    }

    private static string ConnectFailure(ClientWebSocket socket, Exception e) =>
        socket.HttpStatusCode != 0 ? "HTTP " + (int)socket.HttpStatusCode
        : e.InnerException is HttpRequestException h ? (h.InnerException is SocketException se ? se.SocketErrorCode.ToString() : h.HttpRequestError.ToString())
        : e is OperationCanceledException ? "timeout (30 s)" : e.GetType().Name;

    private static Clock Stopwatch() => new(System.Diagnostics.Stopwatch.GetTimestamp());

    private readonly record struct Clock(long Start)
    {
        public double ElapsedMilliseconds() => System.Diagnostics.Stopwatch.GetElapsedTime(Start).TotalMilliseconds;
    }
}
