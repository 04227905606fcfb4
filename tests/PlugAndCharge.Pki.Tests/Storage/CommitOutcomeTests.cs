using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Storage;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Storage;

/// <summary>
/// A commit whose acknowledgement is lost (issue 22): PostgreSQL commits, the connection breaks before the answer
/// arrives. The store reads back what happened and reports the certificate it recorded as recorded.
/// </summary>
public sealed class CommitOutcomeTests
{
    [Fact]
    public async Task A_certificate_whose_commit_acknowledgement_is_lost_is_read_back_and_reported_recorded()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var (direct, store) = await PkiDatabase.OpenAsync(database.ConnectionString);
        await using var _ = direct;
        await using var __ = store;
        await store.CreateAsync(new CaRecord { Id = "lost-ack", ProfileId = "p", KeyUri = "memory:x", CertificateDer = [1] }, null, new AuditEvent("t", "ca.create", "ca/lost-ack"));

        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new CommitDroppingProxy(target.Host!, target.Port);
        var (viaProxy, proxied) = await PkiDatabase.OpenAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString);
        await using var ___ = viaProxy;
        await using var ____ = proxied;

        proxy.DropAfterNextCommit = true;
        var certificate = new CertificateRecord
        {
            IssuerId = "lost-ack", Serial = "0a1b2c", ProfileId = "p", Subject = "CN=lost ack", NotBefore = DateTimeOffset.UtcNow, NotAfter = DateTimeOffset.UtcNow.AddDays(1),
            Der = RandomNumberGenerator.GetBytes(100), Sha256 = RandomNumberGenerator.GetBytes(32), Status = CertificateStatus.Valid,
        };
        await proxied.RecordIssuedAsync(certificate, new AuditEvent("t", "certificate.issue", "lost-ack/0a1b2c"));

        Assert.True(proxy.Dropped, "the proxy broke the connection after COMMIT");
        await using var c = await direct.OpenConnectionAsync();
        Assert.Equal(1, await c.ExecuteScalarAsync<long>("select count(*) from certificates where issuer_id = 'lost-ack' and serial = '0a1b2c'"));
        Assert.Equal(1, await c.ExecuteScalarAsync<long>("select count(*) from audit_log where subject = 'lost-ack/0a1b2c'"));
        var v = await AuditChain.VerifyAsync(store.ReadAllAsync());
        Assert.True(v.Intact, v.Detail);
    }

    /// <summary>
    /// A TCP proxy to PostgreSQL that, when armed, forwards the first client message naming COMMIT, lets the server
    /// work on it, then closes both sides before the answer is relayed.
    /// </summary>
    private sealed class CommitDroppingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly string _host;
        private readonly int _targetPort;
        private readonly CancellationTokenSource _stop = new();
        public volatile bool DropAfterNextCommit;
        public volatile bool Dropped;
        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public CommitDroppingProxy(string host, int port)
        {
            (_host, _targetPort) = (host, port);
            _listener.Start();
            _ = AcceptAsync();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); } catch (OperationCanceledException) { return; } catch (ObjectDisposedException) { return; }
                _ = RelayAsync(client);
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using var server = new TcpClient();
            using (client)
            {
                await server.ConnectAsync(_host, _targetPort);
                var (c, s) = (client.GetStream(), server.GetStream());
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var held = new System.Runtime.CompilerServices.StrongBox<bool>();
                var down = CopyAsync(s, c, held, null, done.Token);
                var up = CopyAsync(c, s, held, async () =>
                {
                    await Task.Delay(500); // PostgreSQL commits meanwhile; its answer is never relayed
                    Dropped = true;
                    done.Cancel();
                }, done.Token);
                await Task.WhenAny(down, up);
                done.Cancel();
            }
        }

        private async Task CopyAsync(NetworkStream from, NetworkStream to, System.Runtime.CompilerServices.StrongBox<bool> held, Func<Task>? onCommit, CancellationToken ct)
        {
            var buffer = new byte[65536];
            try
            {
                int n;
                while ((n = await from.ReadAsync(buffer, ct)) > 0)
                {
                    if (onCommit != null && DropAfterNextCommit && Encoding.ASCII.GetString(buffer, 0, n).Contains("commit", StringComparison.OrdinalIgnoreCase))
                    {
                        DropAfterNextCommit = false;
                        held.Value = true; // from here on nothing the server says reaches the client
                        await to.WriteAsync(buffer.AsMemory(0, n), ct);
                        await onCommit();
                        return;
                    }
                    if (held.Value) continue;
                    await to.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
