using PlugAndCharge.Pki.Revocation;
namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Revocation of every non-anchor certificate of a path, from the supplied CRLs (RFC 5280 §6.3, complete CRLs issued
/// directly by the certificate's issuer) and from our own records. Revoked wins over good whatever the evidence.
/// </summary>
internal static class RevocationChecker
{
    public static Failure? Check(ValidationContext context, List<CertificateView> path, out RevocationInfo? leafRevocation)
    {
        leafRevocation = null;
        var request = context.Request;
        for (var i = 0; i < path.Count - 1; i++)
        {
            var certificate = path[i];
            var issuer = path[i + 1];
            var info = new RevocationInfo(i, RevocationStatus.Unknown, null, null, RevocationEvidence.None);
            foreach (var crl in context.Crls)
            {
                var failure = FromCrl(context, crl, certificate, issuer, i, ref info);
                if (failure is not null)
                {
                    return failure;
                }
            }

            if (request.Revocation is { } source && info.Status != RevocationStatus.Revoked)
            {
                var answer = source.Check(issuer.Certificate, certificate.Certificate.SerialNumber);
                // Compared at whole seconds like the validation time: a revocation earlier in the same second as the
                // check must count, or a certificate revoked a moment ago would still pass.
                if (answer.Status == RevocationStatus.Revoked && (answer.RevokedAt is null || WholeSeconds(answer.RevokedAt.Value.UtcDateTime) <= context.At))
                {
                    info = new RevocationInfo(i, RevocationStatus.Revoked, answer.RevokedAt, answer.Reason ?? RevocationReason.Unspecified, RevocationEvidence.RevocationSource);
                }
                else if (answer.Status == RevocationStatus.Good && info.Status == RevocationStatus.Unknown)
                {
                    info = new RevocationInfo(i, RevocationStatus.Good, null, null, RevocationEvidence.RevocationSource);
                }
            }

            if (info.Status == RevocationStatus.Revoked)
            {
                return new Failure(ChainFailureReason.Revoked, $"revoked on {info.RevokedAt:u} ({info.Reason}) per {info.Evidence}", i, info);
            }

            if (info.Status == RevocationStatus.Unknown && request.RevocationMode == RevocationMode.Require)
            {
                return new Failure(ChainFailureReason.RevocationUnknown, "no current CRL or record covers the certificate", i, info);
            }

            if (i == 0)
            {
                leafRevocation = info;
            }
        }

        return null;
    }

    private static DateTime WholeSeconds(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    private static Failure? FromCrl(ValidationContext context, CrlView crl, CertificateView certificate, CertificateView issuer, int index, ref RevocationInfo info)
    {
        if (crl.Issuer is null || !string.Equals(crl.Issuer.Key, certificate.Issuer.Key, StringComparison.Ordinal))
        {
            // Not this issuer's CRL (or one too broken to say whose it is).
            return null;
        }

        // A CRL of another key of a CA with the same name (key rollover) is simply not ours.
        if (crl.AuthorityKeyId is not null && issuer.SubjectKeyId is not null && !crl.AuthorityKeyId.AsSpan().SequenceEqual(issuer.SubjectKeyId))
        {
            return null;
        }

        if (crl.IsPartial || (crl.OnlyUserCertificates && certificate.IsCa) || (crl.OnlyCaCertificates && !certificate.IsCa))
        {
            return null;
        }

        if (crl.Unusable is not null)
        {
            return new Failure(ChainFailureReason.RevocationUnknown, "CRL of the issuer is unusable: " + crl.Unusable, index);
        }

        if (!issuer.AllowsKeyUsage(KeyUsageBits.CrlSign))
        {
            return new Failure(ChainFailureReason.RevocationUnknown, "CRL issuer keyUsage lacks cRLSign (RFC 5280 §6.3.3 (f))", index);
        }

        if (context.Verifier.Verify(issuer, crl.Tbs, crl.SignatureAlgorithm, crl.SignatureValue, out var detail) != SignatureCheck.Valid)
        {
            return new Failure(ChainFailureReason.RevocationUnknown, "CRL signature does not verify with the issuer key: " + detail, index);
        }

        // Only a CRL current at the validation time answers (RFC 5280 §6.3.3 (a)).
        if (crl.ThisUpdate > context.At || (crl.NextUpdate is { } next && next < context.At))
        {
            return null;
        }

        if (crl.TryGetEntry(certificate.Certificate.SerialNumber, out var revokedAt, out var reason) &&
            revokedAt <= context.At && reason != RevocationReason.RemoveFromCrl)
        {
            info = new RevocationInfo(index, RevocationStatus.Revoked, new DateTimeOffset(revokedAt, TimeSpan.Zero), reason, RevocationEvidence.Crl);
        }
        else if (info.Status == RevocationStatus.Unknown)
        {
            info = new RevocationInfo(index, RevocationStatus.Good, null, null, RevocationEvidence.Crl);
        }

        return null;
    }
}
