using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Revocation;

/// <summary>Builds, lints, signs, verifies and stores the CRL of one CA (RFC 5280 §5) with a strictly increasing number.</summary>
public sealed class CrlIssuer(CertificateAuthorityDirectory authorities, ICertificateAuthorityStore caStore, ICertificateStore certificates, PkiOptions options, TimeProvider clock)
{
    public async Task<CrlRecord> GenerateAsync(string caId, string actor, CancellationToken ct = default)
    {
        var ca = await authorities.GetAsync(caId, ct);
        var revoked = await certificates.ListRevokedAsync(caId, ct);
        var number = await caStore.NextCrlNumberAsync(caId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var next = now + options.CrlValidity;

        var g = new V2TbsCertListGenerator();
        g.SetSignature(SignatureAlgorithms.IdentifierFor(ca.Key.Algorithm));
        g.SetIssuer(ca.Subject);
        g.SetThisUpdate(new Time(now));
        g.SetNextUpdate(new Time(next));
        foreach (var r in revoked.OrderBy(r => r.RevokedAt))
        {
            var at = new DateTime(r.RevokedAt.UtcTicks - r.RevokedAt.UtcTicks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            // RFC 5280 §5.3.1: omit reasonCode rather than use unspecified.
            if (r.Reason == RevocationReason.Unspecified) g.AddCrlEntry(new DerInteger(SerialNumbers.FromHex(r.Serial)), new Time(at), (X509Extensions?)null);
            else g.AddCrlEntry(new DerInteger(SerialNumbers.FromHex(r.Serial)), new Time(at), (int)r.Reason);
        }
        var ext = new X509ExtensionsGenerator();
        ext.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(ca.KeyIdentifier));
        ext.AddExtension(X509Extensions.CrlNumber, false, new CrlNumber(Org.BouncyCastle.Math.BigInteger.ValueOf(number)));
        g.SetExtensions(ext.Generate());
        var tbs = g.GenerateTbsCertList();

        var previous = await caStore.GetLatestCrlAsync(caId, ct);
        if (previous != null && previous.Number >= number) throw new PkiException(PkiError.LintFailed, $"CRL number {number} does not increase on {previous.Number}.");
        if (!ca.Profile.IsCa) throw new PkiException(PkiError.LintFailed, $"'{caId}' is not a CA.");

        var tbsDer = tbs.GetEncoded(Asn1Encodable.Der);
        var signature = await ca.Key.SignAsync(tbsDer, SignatureFormat.Der, ct);
        if (!SignatureAlgorithms.Verify(ca.Certificate.SubjectPublicKeyInfo, tbs.Signature, tbsDer, signature))
            throw new PkiException(PkiError.SignatureCheckFailed, $"The CRL signature by '{ca.Key.Uri}' does not verify.");
        var der = new DerSequence(tbs, tbs.Signature, new DerBitString(signature)).GetEncoded(Asn1Encodable.Der);
        var record = new CrlRecord(caId, number, new DateTimeOffset(now), new DateTimeOffset(next), der);
        await caStore.StoreCrlAsync(record, new AuditEvent(actor, "crl.generate", caId, new Dictionary<string, string>
        {
            ["number"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture), ["entries"] = revoked.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["nextUpdate"] = record.NextUpdate.ToString("O"),
        }), ct);
        return record;
    }

    public static X509Crl Parse(byte[] der) => new X509CrlParser().ReadCrl(der);
}
