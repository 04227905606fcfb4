using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PlugAndCharge.FaultSuite;

/// <summary>The OEM's webhook receiver: answers 200 and counts each event id it was given (X-Event-Id).</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    public ConcurrentDictionary<Guid, int> Received { get; } = new();
    public ConcurrentDictionary<Guid, string> Bodies { get; } = new();
    public int ChangedBodies;
    public string Url { get; }

    public WebhookReceiver()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/hook/"; }
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext c;
            try { c = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            using (var reader = new StreamReader(c.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                if (Guid.TryParse(c.Request.Headers["X-Event-Id"], out var id))
                {
                    Received.AddOrUpdate(id, 1, (_, n) => n + 1);
                    // A redelivery carries the same event: same id, same body.
                    if (Bodies.GetOrAdd(id, body) != body) Interlocked.Increment(ref ChangedBodies);
                }
            }
            c.Response.StatusCode = 200;
            c.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
