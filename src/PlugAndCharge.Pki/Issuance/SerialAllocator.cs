using System.Collections.Concurrent;
using Org.BouncyCastle.Math;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>
/// Hands out serial numbers that are unique by construction (<see cref="SerialNumbers.Compose"/>: CSPRNG bits and a
/// number the store's counter never gives twice), so nothing has to be reserved before signing and a certificate's row
/// is written once. Counter values are taken ahead in blocks, so a busy service pays one round trip per block instead of
/// one per certificate: a block grows (doubling up to <see cref="MaxBlock"/>) while blocks run out faster than one a
/// second, and falls back to a single value when it is quiet. A value left unused at shutdown is simply never used.
/// </summary>
internal sealed class SerialAllocator(ICertificateStore certificates, TimeProvider clock)
{
    public const int MaxBlock = 64;
    private readonly ConcurrentQueue<long> _ready = new();
    private readonly SemaphoreSlim _refill = new(1, 1);
    private int _block = 1;
    private DateTimeOffset _lastRefill = DateTimeOffset.MinValue;

    public async Task<BigInteger> TakeAsync(CancellationToken ct)
    {
        if (_ready.TryDequeue(out var value)) return SerialNumbers.Compose(value);
        await _refill.WaitAsync(ct);
        try
        {
            // Another caller may have refilled the queue while this one waited.
            if (_ready.TryDequeue(out value)) return SerialNumbers.Compose(value);
            var now = clock.GetUtcNow();
            _block = now - _lastRefill < TimeSpan.FromSeconds(1) ? Math.Min(MaxBlock, _block * 2) : 1;
            _lastRefill = now;
            var values = await certificates.NextSerialCountersAsync(_block, ct);
            if (values.Count == 0) throw new PkiException(PkiError.SerialCollision, "The certificate store gave no serial counter value.");
            foreach (var v in values.Skip(1)) _ready.Enqueue(v);
            return SerialNumbers.Compose(values[0]);
        }
        finally { _refill.Release(); }
    }
}
