using System.Collections.Concurrent;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki.Revocation;

/// <summary>
/// The current CRL of each CA as the public CRL URL serves it (RFC 5280 §5). A CRL is signed again only when none
/// exists, when it has passed half its lifetime, or when the CA has more revocations than it lists (revocations are
/// never taken back, so the count tells). Concurrent downloads share one check and at most one signature per CA
/// (single-flight), so an unauthenticated caller cannot make the CA key sign once per request. Per instance: two
/// instances that see the same change at the same moment may each sign once.
/// </summary>
public sealed class CrlPublication(CrlIssuer issuer, ICertificateAuthorityStore caStore, ICertificateStore certificates, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<CrlRecord>>> _inFlight = new(StringComparer.Ordinal);
    // Entries of each CRL already read, by CA and CRL number: a CRL is parsed once, not per download.
    private readonly ConcurrentDictionary<(string CaId, long Number), int> _entries = new();

    public async Task<CrlRecord> CurrentAsync(string caId, CancellationToken ct = default)
    {
        var flight = _inFlight.GetOrAdd(caId, id => new Lazy<Task<CrlRecord>>(() => RefreshAsync(id)));
        try
        {
            return await flight.Value.WaitAsync(ct);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<CrlRecord>>>(caId, flight));
        }
    }

    // Not bound to one caller's cancellation: the callers that joined this flight still want its result.
    private async Task<CrlRecord> RefreshAsync(string caId)
    {
        await Task.Yield();
        var crl = await caStore.GetLatestCrlAsync(caId);
        var revoked = (await certificates.ListRevokedAsync(caId)).Count;
        var now = clock.GetUtcNow();
        if (crl != null && now < crl.ThisUpdate + (crl.NextUpdate - crl.ThisUpdate) / 2 && revoked <= Entries(crl)) return crl;
        crl = await issuer.GenerateAsync(caId, "service:crl-refresh");
        _entries[(caId, crl.Number)] = revoked;
        return crl;
    }

    private int Entries(CrlRecord crl) =>
        _entries.GetOrAdd((crl.IssuerId, crl.Number), _ => CrlIssuer.Parse(crl.Der).GetRevokedCertificates()?.Count ?? 0);
}
