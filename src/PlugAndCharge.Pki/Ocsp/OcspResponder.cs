using System.Collections.Concurrent;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// The OCSP responder of every CA of this service (RFC 6960, RFC 5019 profile). A request with one CertID and no nonce
/// is answered from a pre-signed response cached per CertID, re-signed at half-life; other requests are signed on the
/// spot. Statuses come from the certificate store: good only for a serial this CA issued and did not revoke, unknown for
/// anything else. Revocations reach the cache through <see cref="NotifyRevoked"/> (this process's revoker calls it) and by re-reading each
/// CA's revoked serials every <see cref="OcspOptions.RevocationPollInterval"/> (any process sharing the database).
/// Never throws for bad input or a failing store: every outcome is an OCSPResponse.
/// </summary>
public sealed class OcspResponder : IDisposable
{
    private readonly ICertificateAuthorityStore _cas;
    private readonly ICertificateStore _certificates;
    private readonly KeyProviderRegistry _keys;
    private readonly OcspOptions _options;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, Task<OcspAuthority?>> _authorities = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknownCas = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;
    private readonly Revocation.CertificateRevoker? _revoker;

    public OcspOptions Options => _options;

    public OcspResponder(ICertificateAuthorityStore cas, ICertificateStore certificates, KeyProviderRegistry keys, OcspOptions? options = null, TimeProvider? clock = null)
    {
        _cas = cas; _certificates = certificates; _keys = keys;
        _options = options ?? new OcspOptions();
        _clock = clock ?? TimeProvider.System;
        _watch = Task.Run(WatchRevocationsAsync);
    }

    /// <summary>A responder over <paramref name="ca"/>'s stores that hears of the revocations its revoker makes at once.</summary>
    public OcspResponder(CertificateAuthorityServices ca, OcspOptions? options = null, TimeProvider? clock = null)
        : this(ca.CaStore, ca.Certificates, ca.Keys, options, clock)
    {
        _revoker = ca.Revoker;
        _revoker.Revoked += NotifyRevoked;
    }

    /// <summary>Answers the DER OCSPRequest <paramref name="request"/> sent to the responder of <paramref name="caId"/>.</summary>
    /// <param name="maySignNow">
    /// Asked before an answer is signed on the spot (anything but a cached answer); false answers tryLater (RFC 6960
    /// §2.3). The host uses it to rate-limit the work a client can cause with uncacheable requests.
    /// </param>
    public ValueTask<OcspAnswer> RespondAsync(string caId, ReadOnlyMemory<byte> request, CancellationToken ct = default, Func<bool>? maySignNow = null)
    {
        if (request.Length == 0 || request.Length > _options.MaxRequestBytes) return new(OcspAnswer.Error(OcspResponseStatus.MalformedRequest));
        if (_authorities.TryGetValue(caId, out var loaded) && loaded.IsCompletedSuccessfully)
        {
            var authority = loaded.Result;
            if (authority == null) return new(OcspAnswer.Error(OcspResponseStatus.Unauthorized));
            var parsed = OcspRequestReader.Read(request.Span, _options.MaxCertIdsPerRequest);
            if (parsed == null) return new(OcspAnswer.Error(OcspResponseStatus.MalformedRequest));
            // The hot path: one CertID, no nonce, an answer signed earlier and still fresh.
            if (parsed.IsCacheable && authority.TryGetCached(request.Span[parsed.CertIds[0].Encoded], _clock.GetUtcNow(), out var cached))
            {
                if (cached.ClaimRefresh(_clock.GetUtcNow())) _ = Task.Run(() => RefreshAsync(authority, cached));
                return new(new OcspAnswer(cached.Der, OcspResponseStatus.Successful, cached));
            }
            if (maySignNow != null && !maySignNow()) return new(OcspAnswer.Error(OcspResponseStatus.TryLater));
            return AnswerAsync(authority, request, parsed, ct);
        }
        return SlowPathAsync(caId, request, ct, maySignNow);
    }

    private async ValueTask<OcspAnswer> SlowPathAsync(string caId, ReadOnlyMemory<byte> request, CancellationToken ct, Func<bool>? maySignNow)
    {
        OcspAuthority? authority;
        try { authority = await AuthorityAsync(caId, ct); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return OcspAnswer.Error(OcspResponseStatus.TryLater, e);
        }
        if (authority == null) return OcspAnswer.Error(OcspResponseStatus.Unauthorized);
        var parsed = OcspRequestReader.Read(request.Span, _options.MaxCertIdsPerRequest);
        if (parsed == null) return OcspAnswer.Error(OcspResponseStatus.MalformedRequest);
        if (parsed.IsCacheable && authority.TryGetCached(request.Span[parsed.CertIds[0].Encoded], _clock.GetUtcNow(), out var cached))
            return new OcspAnswer(cached.Der, OcspResponseStatus.Successful, cached);
        if (maySignNow != null && !maySignNow()) return OcspAnswer.Error(OcspResponseStatus.TryLater);
        return await AnswerAsync(authority, request, parsed, ct);
    }

    private async ValueTask<OcspAnswer> AnswerAsync(OcspAuthority authority, ReadOnlyMemory<byte> request, OcspRequest parsed, CancellationToken ct)
    {
        if (authority.Signer == null) return OcspAnswer.Error(OcspResponseStatus.InternalError, authority.SignerFailure);
        var queries = new OcspCertQuery[parsed.CertIds.Count];
        for (var i = 0; i < queries.Length; i++) queries[i] = authority.Query(request.Span, parsed.CertIds[i]);
        try
        {
            if (parsed.IsCacheable)
            {
                var entry = await SignCachedAsync(authority, queries[0], ct);
                return new OcspAnswer(entry.Der, OcspResponseStatus.Successful, entry);
            }
            var now = _clock.GetUtcNow();
            var answers = new OcspSingleAnswer[queries.Length];
            for (var i = 0; i < queries.Length; i++) answers[i] = await StatusAsync(authority, queries[i], now, ct);
            var nonce = parsed.NonceExtensionValue is { } n ? request.Span[n].ToArray() : null;
            return new OcspAnswer(await OcspResponseSigner.SignAsync(authority.Signer, answers, nonce, now, ct), OcspResponseStatus.Successful);
        }
        catch (PkiException e) { return OcspAnswer.Error(OcspResponseStatus.InternalError, e); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The store is unreachable or failing: the client may retry (RFC 6960 §4.2.1 tryLater).
            return OcspAnswer.Error(OcspResponseStatus.TryLater, e);
        }
    }

    private async Task<OcspCachedResponse> SignCachedAsync(OcspAuthority authority, OcspCertQuery query, CancellationToken ct)
    {
        var generation = authority.Generation;
        var now = _clock.GetUtcNow();
        var answer = await StatusAsync(authority, query, now, ct);
        var der = await OcspResponseSigner.SignAsync(authority.Signer!, [answer], null, now, ct);
        var entry = new OcspCachedResponse(der, query, answer.Status, answer.ThisUpdate, answer.NextUpdate);
        authority.Store(entry, generation, _options.MaxCachedResponsesPerCa);
        return entry;
    }

    private async Task RefreshAsync(OcspAuthority authority, OcspCachedResponse stale)
    {
        try { await SignCachedAsync(authority, stale.Query, _stop.Token); }
        catch (Exception) { /* the stale answer stays valid until nextUpdate; the next request past it signs anew */ }
    }

    /// <summary>The status of one CertID: never good for a serial this CA did not issue (RFC 6960 §2.2).</summary>
    private async Task<OcspSingleAnswer> StatusAsync(OcspAuthority authority, OcspCertQuery query, DateTimeOffset now, CancellationToken ct)
    {
        var record = query.Serial != null ? await _certificates.GetAsync(authority.CaId, query.Serial, ct) : null;
        var signerNotAfter = authority.Signer!.NotAfter;
        DateTimeOffset Until(TimeSpan validity) => now + validity < signerNotAfter ? now + validity : signerNotAfter;
        return record?.Status switch
        {
            CertificateStatus.Valid => new OcspSingleAnswer(query.CertIdDer, OcspCertStatus.Good, null, null, now, Until(_options.ResponseValidity)),
            CertificateStatus.Revoked => new OcspSingleAnswer(query.CertIdDer, OcspCertStatus.Revoked, record.RevokedAt, record.RevocationReason, now, Until(_options.ResponseValidity)),
            // Never issued, reserved but not signed, failed issuance, another issuer, an unsupported hash.
            _ => new OcspSingleAnswer(query.CertIdDer, OcspCertStatus.Unknown, null, null, now, Until(_options.UnknownValidity)),
        };
    }

    private Task<OcspAuthority?> AuthorityAsync(string caId, CancellationToken ct)
    {
        // CA ids are 1-64 letters, digits, '-', '_', '.' (HierarchyBuilder): anything else is no CA of ours, without a query.
        if (caId.Length is 0 or > 64 || !caId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return Task.FromResult<OcspAuthority?>(null);
        if (_unknownCas.TryGetValue(caId, out var until) && _clock.GetUtcNow() < until) return Task.FromResult<OcspAuthority?>(null);
        var task = _authorities.GetOrAdd(caId, id => LoadAsync(id));
        return AwaitAsync(caId, task, ct);
    }

    private async Task<OcspAuthority?> AwaitAsync(string caId, Task<OcspAuthority?> task, CancellationToken ct)
    {
        try
        {
            var authority = await task.WaitAsync(ct);
            if (authority == null)
            {
                // Remember unknown ids briefly so a flood of them does not become a flood of queries; bounded.
                _authorities.TryRemove(new KeyValuePair<string, Task<OcspAuthority?>>(caId, task));
                if (_unknownCas.Count > 10_000) _unknownCas.Clear();
                _unknownCas[caId] = _clock.GetUtcNow() + TimeSpan.FromSeconds(30);
            }
            return authority;
        }
        catch when (task.IsFaulted)
        {
            _authorities.TryRemove(new KeyValuePair<string, Task<OcspAuthority?>>(caId, task));
            throw;
        }
    }

    private async Task<OcspAuthority?> LoadAsync(string caId)
    {
        var record = await _cas.GetAsync(caId);
        if (record == null) return null;
        var revoked = await _certificates.ListRevokedAsync(caId);
        var caCert = new X509CertificateParser().ReadCertificate(record.CertificateDer);
        try
        {
            var signer = await OcspSigningIdentity.LoadAsync(record, caCert, _certificates, _keys, _clock.GetUtcNow(), CancellationToken.None);
            return new OcspAuthority(record, signer, null, revoked.Select(r => r.Serial));
        }
        catch (PkiException e)
        {
            return new OcspAuthority(record, null, e, revoked.Select(r => r.Serial));
        }
    }

    /// <summary>Drops the cached answers about a certificate this process just revoked, before the next poll would.</summary>
    public void NotifyRevoked(string caId, string serialHex)
    {
        if (!_authorities.TryGetValue(caId, out var loaded) || !loaded.IsCompletedSuccessfully || loaded.Result == null) return;
        var serial = SerialNumbers.Normalize(serialHex);
        lock (loaded.Result.RevokedSerials) loaded.Result.RevokedSerials.Add(serial);
        loaded.Result.Invalidate(serial);
    }

    /// <summary>
    /// One pass over the loaded CAs: drops answers about serials revoked since the last pass (by any instance), reloads a
    /// CA whose signer changed, and sweeps answers past nextUpdate. Runs every poll interval; public for tests.
    /// </summary>
    public async Task RefreshFromStoreAsync(CancellationToken ct = default)
    {
        foreach (var (caId, loaded) in _authorities)
        {
            if (!loaded.IsCompletedSuccessfully || loaded.Result is not { } authority) continue;
            var record = await _cas.GetAsync(caId, ct);
            var now = _clock.GetUtcNow();
            // A changed or unusable signer (replaced, expired, failed to load) makes the next request load the CA anew.
            var reload = record == null || record.OcspSignerSerial != authority.Record.OcspSignerSerial || record.OcspSignerKeyUri != authority.Record.OcspSignerKeyUri
                || record.Status != authority.Record.Status || authority.Signer == null || now > authority.Signer.NotAfter;
            if (!reload)
            {
                foreach (var r in await _certificates.ListRevokedAsync(caId, ct))
                {
                    bool added;
                    lock (authority.RevokedSerials) added = authority.RevokedSerials.Add(r.Serial);
                    if (!added) continue;
                    authority.Invalidate(r.Serial);
                    reload |= r.Serial == authority.Record.OcspSignerSerial; // a revoked responder must not sign on
                }
            }
            if (reload) _authorities.TryRemove(new KeyValuePair<string, Task<OcspAuthority?>>(caId, loaded));
            else authority.Sweep(now);
        }
    }

    private async Task WatchRevocationsAsync()
    {
        using var timer = new PeriodicTimer(_options.RevocationPollInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await RefreshFromStoreAsync(_stop.Token); }
                catch (Exception) when (!_stop.IsCancellationRequested) { /* store unreachable: try again next tick */ }
            }
        }
        catch (OperationCanceledException) { }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        if (_revoker != null) _revoker.Revoked -= NotifyRevoked;
        _stop.Cancel();
        try { _watch.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
