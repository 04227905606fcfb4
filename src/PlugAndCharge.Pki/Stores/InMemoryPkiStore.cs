using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Pki.Stores;

/// <summary>
/// All PKI stores in process memory, with the same semantics as the PostgreSQL ones (unique serials, idempotent
/// revocation, hash-chained audit). For tests, benchmarks and throw-away tools; nothing survives the process.
/// </summary>
public sealed class InMemoryPkiStore(TimeProvider clock) : ICertificateAuthorityStore, ICertificateStore, IAuditLog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CaRecord> _cas = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), CertificateRecord> _certs = new();
    private readonly Dictionary<string, long> _crlNumbers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CrlRecord> _crls = new(StringComparer.Ordinal);
    private readonly List<AuditEntry> _audit = [];
    private long _serialCounter;

    private void Audit(AuditEvent e)
    {
        var seq = _audit.Count + 1L;
        var prev = _audit.Count == 0 ? AuditChain.Genesis : _audit[^1].Hash;
        var at = AuditChain.Normalize(clock.GetUtcNow());
        var details = AuditChain.SerializeDetails(e.Details);
        _audit.Add(new AuditEntry(seq, at, e.Actor, e.Action, e.Subject, details, prev, AuditChain.ComputeHash(prev, seq, at, e.Actor, e.Action, e.Subject, details)));
    }

    public Task<CaRecord?> GetAsync(string id, CancellationToken ct = default) { lock (_gate) return Task.FromResult(_cas.GetValueOrDefault(id)); }
    public Task<IReadOnlyList<CaRecord>> ListAsync(CancellationToken ct = default) { lock (_gate) return Task.FromResult<IReadOnlyList<CaRecord>>(_cas.Values.OrderBy(c => c.Id).ToList()); }

    public Task CreateAsync(CaRecord ca, CertificateRecord? selfSignedCertificate, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_cas.ContainsKey(ca.Id)) throw new PkiException(PkiError.AlreadyExists, $"CA '{ca.Id}' already exists.");
            if (selfSignedCertificate != null && _certs.ContainsKey((selfSignedCertificate.IssuerId, selfSignedCertificate.Serial))) throw new PkiException(PkiError.SerialCollision, "Serial taken.");
            _cas[ca.Id] = ca;
            if (selfSignedCertificate != null) _certs[(selfSignedCertificate.IssuerId, selfSignedCertificate.Serial)] = selfSignedCertificate;
            Audit(audit);
        }
        return Task.CompletedTask;
    }

    public Task SetOcspSignerAsync(string caId, string serial, string keyUri, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            _cas[caId] = _cas[caId] with { OcspSignerSerial = serial, OcspSignerKeyUri = keyUri };
            Audit(audit);
        }
        return Task.CompletedTask;
    }

    public Task<long> NextCrlNumberAsync(string caId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_crlNumbers[caId] = _crlNumbers.GetValueOrDefault(caId) + 1);
    }

    public Task StoreCrlAsync(CrlRecord crl, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate) { _crls[crl.IssuerId] = crl; Audit(audit); }
        return Task.CompletedTask;
    }

    public Task<CrlRecord?> GetLatestCrlAsync(string caId, CancellationToken ct = default) { lock (_gate) return Task.FromResult(_crls.GetValueOrDefault(caId)); }

    public Task<IReadOnlyList<long>> NextSerialCountersAsync(int count, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<long>>(Enumerable.Range(0, count).Select(_ => ++_serialCounter).ToList());
    }

    public Task RecordIssuedAsync(CertificateRecord certificate, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_certs.TryAdd((certificate.IssuerId, certificate.Serial), certificate))
                throw new PkiException(PkiError.SerialCollision, $"Serial {certificate.Serial} of {certificate.IssuerId} is recorded already.");
            Audit(audit);
        }
        return Task.CompletedTask;
    }

    public Task RecordFailedAsync(string issuerId, string serial, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            _certs.TryAdd((issuerId, serial), new CertificateRecord { IssuerId = issuerId, Serial = serial, ProfileId = "", Subject = "", Status = CertificateStatus.Failed });
            Audit(audit);
        }
        return Task.CompletedTask;
    }

    public Task<CertificateRecord?> GetAsync(string issuerId, string serial, CancellationToken ct = default) { lock (_gate) return Task.FromResult(_certs.GetValueOrDefault((issuerId, serial))); }

    public Task<IReadOnlyList<CertificateRecord>> FindBySerialAsync(string serial, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<CertificateRecord>>(_certs.Values.Where(c => c.Serial == serial).ToList());
    }

    public Task<RevocationOutcome> RevokeAsync(string issuerId, string serial, RevocationReason reason, DateTimeOffset at, AuditEvent audit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_certs.TryGetValue((issuerId, serial), out var r) || r.Status is CertificateStatus.Reserved or CertificateStatus.Failed)
                return Task.FromResult(new RevocationOutcome(false, false, null, null));
            if (r.Status == CertificateStatus.Revoked) return Task.FromResult(new RevocationOutcome(true, true, r.RevokedAt, r.RevocationReason));
            var when = AuditChain.Normalize(at);
            _certs[(issuerId, serial)] = r with { Status = CertificateStatus.Revoked, RevokedAt = when, RevocationReason = reason };
            Audit(audit);
            return Task.FromResult(new RevocationOutcome(true, false, when, reason));
        }
    }

    public Task<IReadOnlyList<RevokedEntry>> ListRevokedAsync(string issuerId, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<RevokedEntry>>(_certs.Values.Where(c => c.IssuerId == issuerId && c.Status == CertificateStatus.Revoked)
                .Select(c => new RevokedEntry(c.Serial, c.RevokedAt!.Value, c.RevocationReason!.Value)).ToList());
    }

    public Task AppendAsync(AuditEvent audit, CancellationToken ct = default) { lock (_gate) Audit(audit); return Task.CompletedTask; }

    public async IAsyncEnumerable<AuditEntry> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        List<AuditEntry> copy;
        lock (_gate) copy = [.. _audit];
        foreach (var e in copy) { await Task.Yield(); yield return e; }
    }

    /// <summary>For tamper tests: replaces an entry as an attacker with write access would.</summary>
    internal void TamperWith(int index, Func<AuditEntry, AuditEntry> edit) { lock (_gate) _audit[index] = edit(_audit[index]); }
}
