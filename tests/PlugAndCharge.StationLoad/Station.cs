using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace PlugAndCharge.StationLoad;

public enum StationState { Disconnected, Connecting, Booting, Booted }

/// <summary>
/// One charging station: its WebSocket and where it is in OCPP's life cycle. Kept small for tens of thousands: no
/// timer, no buffer of its own between messages (the fleet's scheduler and shared buffers do that work).
/// </summary>
public sealed class Station(int index, string id, string password)
{
    private readonly SemaphoreSlim _sending = new(1, 1);
    private ClientWebSocket? _socket;
    private int _calling;

    public int Index { get; } = index;
    public string Id { get; } = id;
    public string Password { get; } = password;
    public volatile StationState State;
    /// <summary>Bumped on every (re)connection; a scheduled job of an older connection is dropped.</summary>
    public int Epoch;
    public int HeartbeatSeconds = 300;
    public int ReconnectAttempts;
    /// <summary>When (Environment.TickCount64) its current connection attempt began.</summary>
    public long ConnectStartedAt;
    /// <summary>When (Environment.TickCount64) its current connection was upgraded to a WebSocket.</summary>
    public long ConnectedAt;
    /// <summary>Booted (Accepted) since the fleet's last mark, e.g. the instance's restart.</summary>
    public bool BootedSinceMark;

    public string Authorization => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Id + ":" + Password));

    public void Attach(ClientWebSocket socket) => _socket = socket;

    /// <summary>OCPP-J: a station has at most one CALL of its own outstanding (the CSMS refuses a second with RpcFrameworkError).</summary>
    public bool TryBeginCall() => Interlocked.CompareExchange(ref _calling, 1, 0) == 0;

    public void EndCall() => Volatile.Write(ref _calling, 0);

    public ClientWebSocket? Socket => _socket;

    /// <summary>One whole text frame; one sender at a time on a WebSocket.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        var socket = _socket ?? throw new WebSocketException(WebSocketError.InvalidState, "not connected");
        await _sending.WaitAsync(ct);
        try { await socket.SendAsync(frame, WebSocketMessageType.Text, true, ct); }
        finally { _sending.Release(); }
    }

    /// <summary>A CALL frame [2, "id", "action", payload] in a pooled buffer (return it with <see cref="ArrayPool{T}.Return"/>).</summary>
    public static (byte[] Buffer, int Length) CallFrame(long messageId, string action, ReadOnlySpan<byte> payload)
    {
        var head = $"[2,\"{messageId}\",\"{action}\",";
        var buffer = ArrayPool<byte>.Shared.Rent(head.Length + payload.Length + 1);
        var n = Encoding.ASCII.GetBytes(head, buffer);
        payload.CopyTo(buffer.AsSpan(n));
        n += payload.Length;
        buffer[n++] = (byte)']';
        return (buffer, n);
    }
}
