using System.Collections.Concurrent;
using Org.BouncyCastle.Math;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>
/// Serial numbers reserved ahead, per issuing CA, so a busy CA pays one reservation round trip per block instead of one
/// per certificate. A block grows (doubling up to <see cref="MaxBlock"/>) while a CA issues faster than one block a
/// second, and falls back to a single serial when it is quiet, so a CA that signs rarely leaves no spares behind.
/// Every serial is reserved in the store before it is signed (RFC 5280 §4.1.2.2 uniqueness) and handed out once; one
/// still unused at shutdown stays Reserved and is never reused.
/// </summary>
internal sealed class SerialReservations(ICertificateStore certificates, TimeProvider clock)
{
    public const int MaxBlock = 64;
    private const int Attempts = 3;
    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);

    private sealed class Pool
    {
        public readonly ConcurrentQueue<BigInteger> Ready = new();
        public readonly SemaphoreSlim Refill = new(1, 1);
        public int Block = 1;
        public DateTimeOffset LastRefill = DateTimeOffset.MinValue;
    }

    public async Task<BigInteger> TakeAsync(string issuerId, CancellationToken ct)
    {
        var pool = _pools.GetOrAdd(issuerId, _ => new Pool());
        if (pool.Ready.TryDequeue(out var serial)) return serial;
        await pool.Refill.WaitAsync(ct);
        try
        {
            // Another caller may have refilled the pool while this one waited.
            if (pool.Ready.TryDequeue(out serial)) return serial;
            var now = clock.GetUtcNow();
            pool.Block = now - pool.LastRefill < TimeSpan.FromSeconds(1) ? Math.Min(MaxBlock, pool.Block * 2) : 1;
            pool.LastRefill = now;
            for (var attempt = 1; attempt <= Attempts; attempt++)
            {
                var candidates = Enumerable.Range(0, pool.Block).Select(_ => SerialNumbers.NewRandom()).ToDictionary(SerialNumbers.ToHex);
                var won = await certificates.ReserveSerialsAsync(issuerId, candidates.Keys.ToList(), ct);
                if (won.Count == 0) continue;
                foreach (var hex in won.Skip(1)) pool.Ready.Enqueue(candidates[hex]);
                return candidates[won[0]];
            }
            throw new PkiException(PkiError.SerialCollision, "Could not reserve a unique serial number.");
        }
        finally { pool.Refill.Release(); }
    }
}
