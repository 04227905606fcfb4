using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Tests.Ocsp;
using PlugAndCharge.Pki.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Issuance;

public class SerialAllocatorTests
{
    /// <summary>The in-memory store, with a log of the counter blocks asked for.</summary>
    private sealed class ObservedStore(TimeProvider clock) : ICertificateStore
    {
        private readonly InMemoryPkiStore _inner = new(clock);
        public List<int> BlockSizes { get; } = [];

        public Task<IReadOnlyList<long>> NextSerialCountersAsync(int count, CancellationToken ct = default)
        {
            BlockSizes.Add(count);
            return _inner.NextSerialCountersAsync(count, ct);
        }

        public Task RecordIssuedAsync(CertificateRecord certificate, AuditEvent audit, CancellationToken ct = default) => _inner.RecordIssuedAsync(certificate, audit, ct);
        public Task RecordFailedAsync(string issuerId, string serial, AuditEvent audit, CancellationToken ct = default) => _inner.RecordFailedAsync(issuerId, serial, audit, ct);
        public Task<CertificateRecord?> GetAsync(string issuerId, string serial, CancellationToken ct = default) => _inner.GetAsync(issuerId, serial, ct);
        public Task<IReadOnlyList<CertificateRecord>> FindBySerialAsync(string serial, CancellationToken ct = default) => _inner.FindBySerialAsync(serial, ct);
        public Task<RevocationOutcome> RevokeAsync(string issuerId, string serial, RevocationReason reason, DateTimeOffset at, AuditEvent audit, CancellationToken ct = default) =>
            _inner.RevokeAsync(issuerId, serial, reason, at, audit, ct);
        public Task<IReadOnlyList<RevokedEntry>> ListRevokedAsync(string issuerId, CancellationToken ct = default) => _inner.ListRevokedAsync(issuerId, ct);
    }

    [Fact]
    public async Task A_busy_service_takes_growing_blocks_and_a_quiet_one_a_single_value()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new ObservedStore(clock);
        var allocator = new SerialAllocator(store, clock);
        var serials = new List<string>();
        for (var i = 0; i < 200; i++) serials.Add(SerialNumbers.ToHex(await allocator.TakeAsync(default)));

        // 1 + 2 + 4 + ... + 64: one round trip serves up to 64 certificates.
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 64, 64], store.BlockSizes);
        Assert.Equal(200, serials.Distinct().Count());

        // Quiet for a while: the spares of the last block are used first, then a single value is taken.
        clock.Now += TimeSpan.FromMinutes(5);
        var spares = store.BlockSizes.Sum() - serials.Count;
        for (var i = 0; i < spares + 1; i++) serials.Add(SerialNumbers.ToHex(await allocator.TakeAsync(default)));
        Assert.Equal(10, store.BlockSizes.Count);
        Assert.Equal(1, store.BlockSizes[^1]);
        Assert.Equal(serials.Count, serials.Distinct().Count());
    }

    [Fact]
    public void A_serial_is_16_positive_bytes_with_71_random_bits_and_the_counter_in_the_last_seven()
    {
        var a = SerialNumbers.Compose(0x0102030405);
        var b = SerialNumbers.Compose(0x0102030405);
        foreach (var s in new[] { a, b })
        {
            var bytes = s.ToByteArrayUnsigned();
            Assert.Equal(16, bytes.Length);
            Assert.True(s.SignValue > 0);
            Assert.Equal(new byte[] { 0, 0, 1, 2, 3, 4, 5 }, bytes[9..]);
        }
        // The same counter value twice (it never happens) still gives different serials: the random part differs.
        Assert.NotEqual(a, b);
        // The counter sits in the last seven bytes, so different counter values give different serials whatever the random part.
        Assert.NotEqual(SerialNumbers.ToHex(SerialNumbers.Compose(1))[^14..], SerialNumbers.ToHex(SerialNumbers.Compose(2))[^14..]);
        Assert.Throws<ArgumentOutOfRangeException>(() => SerialNumbers.Compose(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SerialNumbers.Compose(SerialNumbers.MaxCounter + 1));
        Assert.Equal(16, SerialNumbers.Compose(SerialNumbers.MaxCounter).ToByteArrayUnsigned().Length);
    }

    [Fact]
    public async Task A_serial_is_recorded_once_and_a_second_record_of_it_fails_named()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new InMemoryPkiStore(clock);
        var record = new CertificateRecord { IssuerId = "ca", Serial = "abc", ProfileId = "p", Subject = "CN=x", Status = CertificateStatus.Valid };
        var audit = new AuditEvent("test", "certificate.issue", "ca/abc", new Dictionary<string, string>());
        await store.RecordIssuedAsync(record, audit);
        Assert.Equal(PkiError.SerialCollision, (await Assert.ThrowsAsync<PkiException>(() => store.RecordIssuedAsync(record, audit))).Error);
        // A failure recorded afterwards leaves the issued record as it is.
        await store.RecordFailedAsync("ca", "abc", audit);
        Assert.Equal(CertificateStatus.Valid, (await store.GetAsync("ca", "abc"))!.Status);
    }
}
