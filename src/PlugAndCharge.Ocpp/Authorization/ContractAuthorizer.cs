using Org.BouncyCastle.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Ocpp.Authorization;

/// <summary>OCPP's AuthorizeCertificateStatusEnumType.</summary>
public static class CertificateStatuses
{
    public const string Accepted = "Accepted";
    public const string SignatureError = "SignatureError";
    public const string CertificateExpired = "CertificateExpired";
    public const string CertificateRevoked = "CertificateRevoked";
    public const string NoCertificateAvailable = "NoCertificateAvailable";
    public const string CertChainError = "CertChainError";
    public const string ContractCancelled = "ContractCancelled";
}

/// <summary>OCPP's AuthorizationStatusEnumType values this service answers.</summary>
public static class TokenStatuses
{
    public const string Accepted = "Accepted";
    public const string Blocked = "Blocked";
    public const string Expired = "Expired";
    public const string Invalid = "Invalid";
    public const string Unknown = "Unknown";
}

/// <summary>The answer to an Authorize: idTokenInfo.status and, when certificate data was sent, certificateStatus.</summary>
public sealed record AuthorizationDecision(string TokenStatus, string? CertificateStatus, string Reason);

/// <summary>One OCSPRequestDataType of an Authorize's iso15118CertificateHashData.</summary>
public sealed record CertificateHashInput(string HashAlgorithm, string IssuerNameHash, string IssuerKeyHash, string SerialNumber, string? ResponderUrl);

/// <summary>
/// Authorize for Plug &amp; Charge (OCPP 2.0.1 C07; docs/domain.md §6): validates the contract chain against the MO and V2G
/// roots with revocation, checks that the EMAID is the leaf's CN, then asks for the contract's state. The status pairs:
/// expired → CertificateExpired + Expired; revoked → CertificateRevoked + Blocked; chain invalid, unverifiable or not
/// naming the EMAID → CertChainError + Invalid; chain valid but contract blocked/expired/unknown → ContractCancelled +
/// Blocked/Expired/Unknown; all good → Accepted + Accepted.
/// </summary>
public sealed class ContractAuthorizer(
    ChainValidator validator,
    OurCertificateAuthorities cas,
    OwnRevocationRecords ownRecords,
    ICertificateStore certificates,
    CertificateStatusService ocsp,
    IContractAuthorization contracts,
    ParsedChainCache chains,
    TimeProvider clock)
{
    public const int MaxChainCertificates = 4;

    public async Task<AuthorizationDecision> AuthorizeAsync(string idToken, string tokenType, string? certificatePem, IReadOnlyList<CertificateHashInput>? hashData, CancellationToken ct = default)
    {
        var hasCertificateData = certificatePem != null || hashData is { Count: > 0 };
        if (!string.Equals(tokenType, "eMAID", StringComparison.Ordinal))
            return new AuthorizationDecision(TokenStatuses.Unknown, hasCertificateData ? CertificateStatuses.CertChainError : null, "Only eMAID tokens are authorized by this service.");
        if (!Emaid.TryParse(idToken, IdentifierStrictness.Lenient, out var emaid, out var emaidError))
            return new AuthorizationDecision(TokenStatuses.Invalid, hasCertificateData ? CertificateStatuses.CertChainError : null, "Not an EMAID: " + emaidError);

        X509Certificate? leaf = null;
        if (certificatePem != null)
        {
            var chainDecision = await CheckChainAsync(emaid, certificatePem, ct);
            if (chainDecision.Decision != null) return chainDecision.Decision;
            leaf = chainDecision.Leaf;
        }
        else if (hashData is { Count: > 0 })
        {
            var hashDecision = await CheckHashDataAsync(emaid, hashData, ct);
            if (hashDecision.Decision != null) return hashDecision.Decision;
            leaf = hashDecision.Leaf;
        }

        var state = await contracts.GetStateAsync(emaid.Normalized, leaf, ct);
        var certificateStatus = hasCertificateData ? (state == ContractVerdict.Active ? CertificateStatuses.Accepted : CertificateStatuses.ContractCancelled) : null;
        return state switch
        {
            ContractVerdict.Active => new AuthorizationDecision(TokenStatuses.Accepted, certificateStatus, "Contract active."),
            ContractVerdict.Blocked => new AuthorizationDecision(TokenStatuses.Blocked, certificateStatus, "Contract blocked."),
            ContractVerdict.Expired => new AuthorizationDecision(TokenStatuses.Expired, certificateStatus, "Contract expired."),
            _ => new AuthorizationDecision(TokenStatuses.Unknown, certificateStatus, "Contract unknown."),
        };
    }

    private async Task<(AuthorizationDecision? Decision, X509Certificate? Leaf)> CheckChainAsync(Emaid emaid, string pem, CancellationToken ct)
    {
        IReadOnlyList<X509Certificate> chain;
        try
        {
            chain = chains.Read(pem);
        }
        catch (FormatException e)
        {
            return (ChainError("The certificate chain cannot be read: " + e.Message), null);
        }
        if (chain.Count == 0 || chain.Count > MaxChainCertificates)
            return (ChainError($"The certificate field must hold 1 to {MaxChainCertificates} PEM certificates, leaf first."), null);

        var snapshot = await cas.GetAsync(ct);
        var revocation = await ownRecords.ForAsync(chain, snapshot, ct);
        ChainValidationResult Validate(IReadOnlyList<X509Certificate> intermediates) => validator.Validate(new ChainValidationRequest
        {
            Leaf = chain[0],
            Intermediates = intermediates,
            TrustAnchors = snapshot.ContractRoots,
            At = clock.GetUtcNow(),
            Revocation = revocation,
            Iso15118 = new Iso15118Rules { ExpectedEmaid = emaid.Normalized },
        });
        var result = Validate(chain.Count > 1 ? chain.Skip(1).ToList() : []);
        // A station may send the leaf alone (C07 allows the chain or just the certificate): try our own sub-CAs then.
        if (result is { IsValid: false, Reason: ChainFailureReason.UntrustedRoot }) result = Validate([.. chain.Skip(1), .. snapshot.SubCaCertificates]);
        if (!result.IsValid) return (FromFailure(result), null);
        return (null, chain[0]);
    }

    private static AuthorizationDecision FromFailure(ChainValidationResult result) => result.Reason switch
    {
        ChainFailureReason.Expired => new AuthorizationDecision(TokenStatuses.Expired, CertificateStatuses.CertificateExpired, result.Detail),
        ChainFailureReason.Revoked => new AuthorizationDecision(TokenStatuses.Blocked, CertificateStatuses.CertificateRevoked, result.Detail),
        _ => ChainError($"{result.Reason}: {result.Detail}"),
    };

    private static AuthorizationDecision ChainError(string reason) => new(TokenStatuses.Invalid, CertificateStatuses.CertChainError, reason);

    /// <summary>
    /// Hash data only (the station validated the chain, OCPP 2.0.1 C07.FR.06): each entry's revocation status from our
    /// records (our CAs) or an allow-listed OCSP responder. An entry whose status cannot be established makes the
    /// chain unverifiable. When we issued the leaf, its expiry and its CN are checked too.
    /// </summary>
    private async Task<(AuthorizationDecision? Decision, X509Certificate? Leaf)> CheckHashDataAsync(Emaid emaid, IReadOnlyList<CertificateHashInput> hashData, CancellationToken ct)
    {
        var snapshot = await cas.GetAsync(ct);
        X509Certificate? leaf = null;
        foreach (var h in hashData)
        {
            if (!CertificateIdentity.TryParse(h.HashAlgorithm, h.IssuerNameHash, h.IssuerKeyHash, h.SerialNumber, out var id, out var error))
                return (ChainError(error), null);
            var ours = snapshot.ByIssuerHashes(id.HashAlgorithm, id.IssuerNameHash, id.IssuerKeyHash);
            if (ours != null)
            {
                var record = await certificates.GetAsync(ours.Id, id.SerialHex, ct);
                if (record == null || record.Status is CertificateStatus.Reserved or CertificateStatus.Failed)
                    return (ChainError($"{ours.Id} issued no certificate {id.SerialHex}."), null);
                if (record.Status == CertificateStatus.Revoked)
                    return (new AuthorizationDecision(TokenStatuses.Blocked, CertificateStatuses.CertificateRevoked, $"{ours.Id}/{id.SerialHex} is revoked."), null);
                if (record.NotAfter < clock.GetUtcNow())
                    return (new AuthorizationDecision(TokenStatuses.Expired, CertificateStatuses.CertificateExpired, $"{ours.Id}/{id.SerialHex} has expired."), null);
                if (record.Der != null && record.ProfileId.EndsWith("/contract", StringComparison.Ordinal))
                {
                    leaf = CertificateReader.ReadCertificate(record.Der);
                    var cn = DistinguishedNames.CommonName(leaf.SubjectDN);
                    if (cn == null || !Emaid.SameContract(cn, emaid.Normalized))
                        return (ChainError($"The contract certificate names {cn}, not {emaid.Normalized}."), null);
                }
                continue;
            }
            var answer = await ocsp.GetAsync(id, h.ResponderUrl, ct);
            if (!answer.Ok) return (ChainError(answer.Failure ?? "OCSP failed."), null);
            if (answer.Status == OcspCertStatus.Revoked)
                return (new AuthorizationDecision(TokenStatuses.Blocked, CertificateStatuses.CertificateRevoked, $"{id.SerialHex} is revoked (OCSP)."), null);
            if (answer.Status == OcspCertStatus.Unknown)
                return (ChainError($"The responder does not know {id.SerialHex}."), null);
        }
        return (null, leaf);
    }
}
