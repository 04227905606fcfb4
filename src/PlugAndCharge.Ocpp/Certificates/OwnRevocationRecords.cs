using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>
/// Revocation from our own issuance records, for the certificates of one chain. The validator asks synchronously, so
/// the records of every certificate a chain could contain are read first (one lookup each), then answered from memory.
/// Certificates of other PKIs stay Unknown here.
/// </summary>
public sealed class OwnRevocationRecords(ICertificateStore certificates)
{
    public async Task<IRevocationSource> ForAsync(IEnumerable<X509Certificate> chain, CaSnapshot cas, CancellationToken ct = default)
    {
        // Every certificate of the chain whose issuer is one of our CAs, read in one query.
        var keys = new HashSet<(string, string)>();
        foreach (var c in chain)
        {
            var serial = SerialNumbers.ToHex(c.SerialNumber);
            foreach (var ca in cas.BySubject(c.IssuerDN)) keys.Add((ca.Id, serial));
        }
        var records = new Dictionary<(string, string), CertificateRecord>();
        foreach (var r in await certificates.GetManyAsync(keys, ct)) records[(r.IssuerId, r.Serial)] = r;
        return new Snapshot(records, cas);
    }

    private sealed class Snapshot(Dictionary<(string, string), CertificateRecord> records, CaSnapshot cas) : IRevocationSource
    {
        public RevocationCheck Check(X509Certificate issuer, BigInteger serialNumber)
        {
            if (cas.ByCertificate(issuer) is not { } ca) return RevocationCheck.Unknown;
            if (!records.TryGetValue((ca.Id, SerialNumbers.ToHex(serialNumber)), out var r)) return RevocationCheck.Unknown;
            return r.Status switch
            {
                CertificateStatus.Revoked => RevocationCheck.RevokedOn(r.RevokedAt ?? DateTimeOffset.MinValue, r.RevocationReason ?? Pki.Revocation.RevocationReason.Unspecified),
                CertificateStatus.Valid => RevocationCheck.Good,
                _ => RevocationCheck.Unknown,
            };
        }
    }
}
