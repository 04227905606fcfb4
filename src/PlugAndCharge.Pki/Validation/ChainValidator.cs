using System.Runtime.CompilerServices;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Validates certification paths per RFC 5280 §6.1, with path building over untrusted intermediates, optional revocation
/// and optional ISO 15118 rules. Thread-safe and meant to live as a singleton: parsed certificates, imported keys and
/// verified CA links are cached across calls.
/// </summary>
public sealed class ChainValidator
{
    private readonly ChainValidatorOptions _options;
    private readonly SignatureVerifier _verifier;
    private readonly ConditionalWeakTable<X509Certificate, CertificateView> _views = new();
    private readonly ConditionalWeakTable<X509Crl, CrlView> _crls = new();

    public ChainValidator()
        : this(new ChainValidatorOptions())
    {
    }

    public ChainValidator(ChainValidatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _verifier = new SignatureVerifier(options.PublicKeyCacheCapacity, options.SignatureCacheCapacity);
    }

    public ChainValidationResult Validate(ChainValidationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return ValidateCore(request);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or FormatException
                                      or InvalidOperationException or NullReferenceException or Org.BouncyCastle.Asn1.Asn1Exception)
        {
            // Certificates are attacker-controlled input: whatever a parser throws on them is a rejection, not a crash.
            return new ChainValidationResult(false, ChainFailureReason.Malformed, "certificate data cannot be processed: " + e.Message, [request.Leaf], null, null);
        }
    }

    private ChainValidationResult ValidateCore(ChainValidationRequest request)
    {
        var at = TruncateToSeconds(request.At);
        var leaf = View(request.Leaf);

        // The leaf's own problems come first: they hold whatever path is found, and an expired leaf must be reported as
        // expired (OCPP CertificateExpired) even when its issuer is unknown.
        var failure = CertificateChecks.Standalone(leaf, CertificateRole.Leaf, request.Profile, at, 0) ?? LeafRequirements.Check(leaf, request);
        if (failure is { } rejected)
        {
            return new ChainValidationResult(false, rejected.Reason, rejected.Detail, [request.Leaf], 0, null);
        }

        var anchors = Views(request.TrustAnchors, null);
        var intermediates = Views(request.Intermediates, anchors);
        var crls = new CrlView[request.Crls.Count];
        for (var i = 0; i < crls.Length; i++)
        {
            crls[i] = _crls.GetValue(request.Crls[i], CrlView.Create);
        }

        var leafVerifiedBy = request.LeafVerifiedBy is { } issuer ? View(issuer).Fingerprint : (CertificateFingerprint?)null;
        var context = new ValidationContext(request, at, leaf, anchors, intermediates, crls, _verifier, _options, leafVerifiedBy);
        return new PathSearch(context).Run();
    }

    private CertificateView View(X509Certificate certificate) => _views.GetValue(certificate, CertificateView.Create);

    /// <summary>Views of the certificates; intermediates that are also anchors are dropped, the anchor copy wins.</summary>
    private CertificateView[] Views(IReadOnlyList<X509Certificate> certificates, CertificateView[]? exclude)
    {
        var result = new CertificateView[certificates.Count];
        var count = 0;
        for (var i = 0; i < certificates.Count; i++)
        {
            var view = View(certificates[i]);
            if (exclude is not null && Contains(exclude, view))
            {
                continue;
            }

            result[count++] = view;
        }

        return count == result.Length ? result : result[..count];
    }

    private static bool Contains(CertificateView[] views, CertificateView view)
    {
        foreach (var candidate in views)
        {
            if (candidate.Fingerprint == view.Fingerprint)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Certificates carry whole seconds, so the time is floored (x509-limbo notbefore/notafter-fractional).</summary>
    private static DateTime TruncateToSeconds(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTime(ticks - (ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }
}
