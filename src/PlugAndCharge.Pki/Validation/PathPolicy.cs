namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Rules that need the whole path, applied once a candidate path reaches a trust anchor: RFC 5280 §6.1.4 (l)/(m) path length,
/// the requested depth, EKU of intermediates, §6.1.3 (b)/(c) name constraints, ISO 15118 depth and profiles, revocation.
/// </summary>
internal static class PathPolicy
{
    public static Failure? Check(ValidationContext context, List<CertificateView> path, out RevocationInfo? leafRevocation)
    {
        leafRevocation = null;
        return Depth(context.Request, path)
               ?? PathLength(path)
               ?? ExtendedKeyUsage(context.Request, path)
               ?? NameConstraints(context, path)
               ?? Iso15118(context.Request.Iso15118, path)
               ?? (context.Request.RevocationMode == RevocationMode.None ? null : RevocationChecker.Check(context, path, out leafRevocation));
    }

    private static Failure? Depth(ChainValidationRequest request, List<CertificateView> path)
    {
        if (request.MaxIntermediates is not { } max)
        {
            return null;
        }

        // Self-issued certificates (key rollover) are not counted, as for pathLenConstraint (RFC 5280 §4.2.1.9).
        var count = 0;
        for (var i = path.Count - 2; i >= 1; i--)
        {
            if (!path[i].IsSelfIssued && ++count > max)
            {
                return new Failure(ChainFailureReason.PathLength, $"more than {max} intermediate certificates", i);
            }
        }

        return null;
    }

    /// <summary>RFC 5280 §6.1.4 (l), (m); the anchor's own pathLenConstraint counts too, as webpki applies it.</summary>
    private static Failure? PathLength(List<CertificateView> path)
    {
        var anchor = path[^1];
        var remaining = anchor.PathLength ?? int.MaxValue;
        var constrainer = path.Count - 1;
        for (var i = path.Count - 2; i >= 1; i--)
        {
            var certificate = path[i];
            if (!certificate.IsSelfIssued)
            {
                if (remaining <= 0)
                {
                    return new Failure(ChainFailureReason.PathLength, $"exceeds the pathLenConstraint of certificate {constrainer}", i);
                }

                remaining--;
            }

            if (certificate.PathLength is { } own && own < remaining)
            {
                remaining = own;
                constrainer = i;
            }
        }

        return null;
    }

    /// <summary>An intermediate that restricts its EKU must allow the purpose asked of the leaf (as webpki, Go and browsers do).</summary>
    private static Failure? ExtendedKeyUsage(ChainValidationRequest request, List<CertificateView> path)
    {
        foreach (var purpose in request.RequiredExtendedKeyUsages)
        {
            for (var i = 1; i < path.Count - 1; i++)
            {
                var purposes = path[i].ExtendedKeyUsages;
                if (purposes is not null && !purposes.Contains(purpose) && !purposes.Contains(CertificateView.OidAnyExtendedKeyUsage))
                {
                    return new Failure(ChainFailureReason.ExtendedKeyUsage, "intermediate extendedKeyUsage does not allow " + purpose, i);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Each CA's constraints bind every certificate below it, except self-issued intermediates (RFC 5280 §6.1.3 (b), (c),
    /// §6.1.4 (g)). Work is bounded: the product of names and subtrees is counted before any comparison.
    /// </summary>
    private static Failure? NameConstraints(ValidationContext context, List<CertificateView> path)
    {
        var budget = context.Options.MaxNameConstraintComparisons;
        for (var j = path.Count - 1; j >= 1; j--)
        {
            if (path[j].NameConstraints is not { } constraints)
            {
                continue;
            }

            for (var i = j - 1; i >= 0; i--)
            {
                var certificate = path[i];
                if (i != 0 && certificate.IsSelfIssued)
                {
                    continue;
                }

                var names = certificate.Names.Count + 1 + certificate.Subject.EmailAddresses.Count;
                budget -= constraints.SubtreeCount * names;
                if (budget < 0)
                {
                    return new Failure(ChainFailureReason.NameConstraints, "too many names and name constraints to check", i);
                }

                var violation = constraints.Check(certificate.Subject, certificate.Names);
                if (violation is not null)
                {
                    return new Failure(ChainFailureReason.NameConstraints, violation + $" (constraint of certificate {j})", i);
                }
            }
        }

        return null;
    }

    private static Failure? Iso15118(Iso15118Rules? rules, List<CertificateView> path)
    {
        if (rules is null)
        {
            return null;
        }

        if (path.Count - 1 > rules.MaxCertificatesBelowRoot)
        {
            return new Failure(
                ChainFailureReason.ChainTooLong,
                $"{path.Count - 1} certificates below the root, ISO 15118 allows {rules.MaxCertificatesBelowRoot} [V2G2-009]",
                path.Count - 2);
        }

        for (var i = 0; i < path.Count; i++)
        {
            var key = path[i].PublicKeyInfo;
            var algorithm = key.Algorithm.Algorithm.Id;
            var allowed = algorithm switch
            {
                KeyPolicy.OidEcPublicKey => KeyPolicy.NamedCurve(key) is { } curve && rules.AllowedCurveOids.Contains(curve),
                KeyPolicy.OidEd448 => rules.AllowEd448,
                _ => false,
            };
            if (!allowed)
            {
                return new Failure(ChainFailureReason.ProfileViolation, "key algorithm or curve not allowed by ISO 15118", i);
            }

            var violation = rules.ProfileConformance?.Invoke(path[i].Certificate, i);
            if (violation is not null)
            {
                return new Failure(ChainFailureReason.ProfileViolation, violation, i);
            }
        }

        return null;
    }
}
