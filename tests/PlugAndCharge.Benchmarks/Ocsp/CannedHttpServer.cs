using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PlugAndCharge.Benchmarks.Ocsp;

/// <summary>
/// The ceiling of the OCSP load test's method: a server that reads a request and writes a fixed 200 answer on raw
/// sockets, with no HTTP stack at all. `ab` on new connections against it measures what `ab`, the kernel's TCP
/// handshakes and the two cores allow, so responder results can be read against it.
/// Usage: canned-http PORT SECONDS
/// </summary>
public static class CannedHttpServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5490;
        var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 60;
        var body = new byte[300];
        var response = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(512);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        Console.WriteLine($"canned HTTP on 127.0.0.1:{port} for {seconds} s");
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = await listener.AcceptAsync(stop.Token);
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        var buffer = new byte[4096];
                        var read = 0;
                        // Until the end of the headers and the declared body (ab sends Content-Length).
                        while (true)
                        {
                            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
                            if (n == 0) return;
                            read += n;
                            var text = Encoding.ASCII.GetString(buffer, 0, read);
                            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                            if (end < 0) continue;
                            var lengthAt = text.IndexOf("Content-length: ", StringComparison.OrdinalIgnoreCase);
                            var length = lengthAt < 0 ? 0 : int.Parse(text[(lengthAt + 16)..text.IndexOf('\r', lengthAt)], System.Globalization.CultureInfo.InvariantCulture);
                            if (read >= end + 4 + length) break;
                        }
                        await socket.SendAsync(response, SocketFlags.None);
                        socket.Shutdown(SocketShutdown.Both);
                    }
                });
            }
        }
        catch (OperationCanceledException) { }
        return 0;
    }
}
