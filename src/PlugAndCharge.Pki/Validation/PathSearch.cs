namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Depth-first path building from the leaf towards a trust anchor with backtracking (RFC 4158 in spirit): candidates are
/// certificates whose subject matches the current issuer name, anchors before intermediates and key-identifier matches
/// first. Every link is checked as it is added, so dead ends are cut early; the first path that passes
/// <see cref="PathPolicy"/> wins. Cycles are refused and signature checks, candidate steps and depth are bounded, which
/// keeps adversarial bundles (x509-limbo "pathological" cases) cheap.
/// </summary>
internal sealed class PathSearch
{
    private readonly ValidationContext _context;
    private readonly List<CertificateView> _path = new(8);
    private int _signatureChecks;
    private int _steps;
    private bool _exhausted;
    private Failure? _best;
    private int _bestRank = -1;
    private CertificateView[] _bestPath = [];
    private ChainValidationResult? _success;

    public PathSearch(ValidationContext context)
    {
        _context = context;
    }

    public ChainValidationResult Run()
    {
        var leaf = _context.Leaf;
        _path.Add(leaf);
        foreach (var anchor in _context.Anchors)
        {
            if (anchor.Fingerprint == leaf.Fingerprint && TryComplete())
            {
                return _success!;
            }
        }

        if (Extend())
        {
            return _success!;
        }

        var failure = _best ?? new Failure(ChainFailureReason.UntrustedRoot, "no path to a trust anchor", 0);
        var detail = _exhausted ? failure.Detail + " (path search stopped at its work limit)" : failure.Detail;
        return new ChainValidationResult(false, failure.Reason, detail, Certificates(_bestPath.Length > 0 ? _bestPath : [leaf]), failure.Index, failure.Revocation);
    }

    private bool Extend()
    {
        var current = _path[^1];
        var found = false;
        if (_path.Count >= _context.Options.MaxPathCertificates)
        {
            Record(new Failure(ChainFailureReason.PathLength, "path would exceed " + _context.Options.MaxPathCertificates + " certificates", _path.Count - 1), null);
            return false;
        }

        // Three passes per group: key identifiers match, unknown, mismatch. RFC 5280 does not make AKI binding, so a
        // mismatch only demotes a candidate.
        for (var group = 0; group < 2; group++)
        {
            var candidates = group == 0 ? _context.Anchors : _context.Intermediates;
            for (var priority = 0; priority < 3; priority++)
            {
                foreach (var candidate in candidates)
                {
                    if (!string.Equals(candidate.Subject.Key, current.Issuer.Key, StringComparison.Ordinal) ||
                        Priority(current, candidate) != priority)
                    {
                        continue;
                    }

                    found = true;
                    if (TryCandidate(candidate, group == 0))
                    {
                        return true;
                    }

                    if (_exhausted)
                    {
                        return false;
                    }
                }
            }
        }

        if (!found)
        {
            Record(NoIssuer(current), null);
        }

        return false;
    }

    private bool TryCandidate(CertificateView candidate, bool isAnchor)
    {
        if (++_steps > _context.Options.MaxCandidateSteps)
        {
            _exhausted = true;
            return false;
        }

        var index = _path.Count;
        foreach (var member in _path)
        {
            // The same certificate, or the same CA (name and key) in another certificate, would close a loop.
            if (member.Fingerprint == candidate.Fingerprint ||
                (string.Equals(member.Subject.Key, candidate.Subject.Key, StringComparison.Ordinal) && member.SamePublicKey(candidate)))
            {
                Record(new Failure(ChainFailureReason.UntrustedRoot, "issuer candidate would repeat a CA already in the path", index), candidate);
                return false;
            }
        }

        var role = isAnchor ? CertificateRole.Anchor : CertificateRole.Intermediate;
        var standalone = CertificateChecks.Standalone(candidate, role, _context.Request.Profile, _context.At, index)
                         ?? CertificateChecks.AsIssuer(candidate, role, index);
        if (standalone is { } unfit)
        {
            Record(unfit, candidate);
            return false;
        }

        if (++_signatureChecks > _context.Options.MaxSignatureChecks)
        {
            _exhausted = true;
            return false;
        }

        var current = _path[^1];
        var detail = string.Empty;
        // A leaf link the caller verified before (the same leaf bytes under this very issuer) is not verified again.
        var check = _path.Count == 1 && _context.LeafVerifiedBy == candidate.Fingerprint
            ? SignatureCheck.Valid
            : _context.Verifier.VerifyCertificate(candidate, current, out detail);
        if (check != SignatureCheck.Valid)
        {
            var reason = check == SignatureCheck.Unsupported ? ChainFailureReason.UnsupportedAlgorithm : ChainFailureReason.BadSignature;
            Record(new Failure(reason, detail, index - 1), candidate);
            return false;
        }

        _path.Add(candidate);
        if (isAnchor ? TryComplete() : Extend())
        {
            return true;
        }

        _path.RemoveAt(_path.Count - 1);
        return false;
    }

    private bool TryComplete()
    {
        var failure = PathPolicy.Check(_context, _path, out var revocation);
        if (failure is null)
        {
            _success = ChainValidationResult.Valid(Certificates(_path), revocation);
            return true;
        }

        Record(failure.Value, null);
        return false;
    }

    /// <summary>Keeps the failure of the path that got furthest; on a tie the first one found.</summary>
    private void Record(Failure failure, CertificateView? candidate)
    {
        var rank = _path.Count + (candidate is null ? 0 : 1);
        if (rank <= _bestRank)
        {
            return;
        }

        _best = failure;
        _bestRank = rank;
        var path = new CertificateView[rank];
        _path.CopyTo(path);
        if (candidate is not null)
        {
            path[^1] = candidate;
        }

        _bestPath = path;
    }

    /// <summary>
    /// No candidate carries the issuer name. If one carries the issuer's key identifier, the names fail to chain
    /// (RFC 5280 §6.1.3 (a)(4)), which says more than "untrusted".
    /// </summary>
    private Failure NoIssuer(CertificateView current)
    {
        var index = _path.Count - 1;
        if (current.AuthorityKeyId is { } keyId)
        {
            foreach (var candidates in (CertificateView[][])[_context.Anchors, _context.Intermediates])
            {
                foreach (var candidate in candidates)
                {
                    if (candidate.SubjectKeyId is { } subjectKeyId && subjectKeyId.AsSpan().SequenceEqual(keyId))
                    {
                        return new Failure(ChainFailureReason.NameChaining, "issuer name does not match the subject of the certificate holding the issuer key identifier", index);
                    }
                }
            }
        }

        return new Failure(ChainFailureReason.UntrustedRoot, "no trusted or intermediate certificate issued this one", index);
    }

    private static int Priority(CertificateView subject, CertificateView candidate)
    {
        if (subject.AuthorityKeyId is null || candidate.SubjectKeyId is null)
        {
            return 1;
        }

        return subject.AuthorityKeyId.AsSpan().SequenceEqual(candidate.SubjectKeyId) ? 0 : 2;
    }

    private static Org.BouncyCastle.X509.X509Certificate[] Certificates(IReadOnlyList<CertificateView> views)
    {
        var result = new Org.BouncyCastle.X509.X509Certificate[views.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = views[i].Certificate;
        }

        return result;
    }
}
