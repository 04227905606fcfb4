using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Tests.Ocsp;
using PlugAndCharge.Pki.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Issuance;

public class SerialReservationsTests
{
    /// <summary>The in-memory store, with a log of reservation calls and serials it refuses as if another issuer held them.</summary>
    private sealed class ObservedStore(TimeProvider clock) : ICertificateStore
    {
        private readonly InMemoryPkiStore _inner = new(clock);
        public List<int> ReservationSizes { get; } = [];
        public int RefuseNext { get; set; }

        public async Task<IReadOnlyList<string>> ReserveSerialsAsync(string issuerId, IReadOnlyList<string> serials, CancellationToken ct = default)
        {
            ReservationSizes.Add(serials.Count);
            var refused = Math.Min(RefuseNext, serials.Count);
            RefuseNext -= refused;
            return await _inner.ReserveSerialsAsync(issuerId, serials.Skip(refused).ToList(), ct);
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
    public async Task A_busy_CA_reserves_growing_blocks_and_a_quiet_one_a_single_serial()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new ObservedStore(clock);
        var reservations = new SerialReservations(store, clock);
        var serials = new List<string>();
        for (var i = 0; i < 200; i++) serials.Add(SerialNumbers.ToHex(await reservations.TakeAsync("ca", default)));

        // 1 + 2 + 4 + ... + 64: one round trip serves up to 64 certificates.
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 64, 64], store.ReservationSizes);
        Assert.Equal(200, serials.Distinct().Count());
        foreach (var s in serials) Assert.Equal(CertificateStatus.Reserved, (await store.GetAsync("ca", s))!.Status);

        // Quiet for a while: the spares of the last block are used first, then a single serial is reserved.
        clock.Now += TimeSpan.FromMinutes(5);
        var spares = store.ReservationSizes.Sum() - serials.Count;
        for (var i = 0; i < spares + 1; i++) serials.Add(SerialNumbers.ToHex(await reservations.TakeAsync("ca", default)));
        Assert.Equal(10, store.ReservationSizes.Count);
        Assert.Equal(1, store.ReservationSizes[^1]);
        Assert.Equal(serials.Count, serials.Distinct().Count());
    }

    [Fact]
    public async Task Serials_another_issuer_holds_are_skipped_and_endless_collisions_fail_named()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new ObservedStore(clock) { RefuseNext = 2 };
        var reservations = new SerialReservations(store, clock);
        var first = await reservations.TakeAsync("ca", default);
        Assert.Equal([1, 1, 1], store.ReservationSizes);
        Assert.Equal(CertificateStatus.Reserved, (await store.GetAsync("ca", SerialNumbers.ToHex(first)))!.Status);

        clock.Now += TimeSpan.FromMinutes(5);
        store.RefuseNext = 3;
        var e = await Assert.ThrowsAsync<PkiException>(() => reservations.TakeAsync("ca", default));
        Assert.Equal(PkiError.SerialCollision, e.Error);
    }
}
