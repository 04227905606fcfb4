using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Ocpp.Signing;

/// <summary>OCPP's CertificateSigningUseEnumType; absent in SignCertificate means one certificate for both uses.</summary>
public enum CertificateSigningUse { ChargingStationCertificate, V2GCertificate, Combined }

/// <summary>The outcome of checking a station's CSR: accepted (with the request to sign) or rejected with a reason.</summary>
/// <param name="ProfileId">Profile the certificate will be issued under (decided by the use, and for a combined certificate by its CN).</param>
public sealed record CsrReview(bool Accepted, string Reason, CertificateSigningUse Use, byte[]? CsrDer, string? ProfileId = null, string? IssuerId = null)
{
    public static CsrReview Reject(CertificateSigningUse use, string reason) => new(false, reason, use, null);
}

/// <summary>
/// Certificates for stations (SignCertificate, OCPP 2.0.1 A02/A03 and M.. for V2G): <see cref="Review"/> runs the checks
/// that decide Accepted/Rejected synchronously; <see cref="SignAsync"/> issues after the response has gone out.
/// </summary>
public interface ICertificateSigningService
{
    CsrReview Review(StationRecord station, string csrPem, CertificateSigningUse use);

    /// <returns>The PEM chain, leaf first, with the sub-CAs and without the root.</returns>
    Task<string> SignAsync(StationRecord station, CsrReview review, CancellationToken ct = default);
}

/// <summary>Which profile and CA sign each kind of station certificate.</summary>
public sealed class StationCertificateOptions
{
    /// <summary>Profile of ChargingStationCertificate; Profiles/charging-station.json in this project is its definition.</summary>
    public string ChargingStationProfileId { get; set; } = "ocpp/charging-station";
    public string ChargingStationIssuerId { get; set; } = "iso2-cpo-subca2";
    /// <summary>Profile of V2GCertificate (the SECC TLS certificate, CN = EVSEID/SECCID).</summary>
    public string V2GProfileId { get; set; } = "iso2/secc";
    public string V2GIssuerId { get; set; } = "iso2-cpo-subca2";
}

/// <summary>
/// Signs station CSRs with our CA (<see cref="CertificateIssuer"/>). A CSR must verify (proof of possession), carry a
/// key the profile allows, name the station's CPO as O, and as CN the station's serial number or identity
/// (ChargingStationCertificate) or an EVSE ID / SECC ID (V2GCertificate) — OCPP 2.0.1 A02.FR.04, docs/domain.md §6.
/// </summary>
public sealed class CaCertificateSigningService(CertificateAuthorityServices ca, StationCertificateOptions options) : ICertificateSigningService
{
    public CsrReview Review(StationRecord station, string csrPem, CertificateSigningUse use)
    {
        if (use != CertificateSigningUse.Combined) return Review(station, csrPem, use, use);
        // One certificate for both uses: a station name makes it a charging station certificate, an EVSE ID a V2G one.
        var asStation = Review(station, csrPem, CertificateSigningUse.ChargingStationCertificate, use);
        return asStation.Accepted ? asStation : Review(station, csrPem, CertificateSigningUse.V2GCertificate, use);
    }

    private CsrReview Review(StationRecord station, string csrPem, CertificateSigningUse profileUse, CertificateSigningUse use)
    {
        VerifiedCsr csr;
        byte[] der;
        try
        {
            der = CsrReader.Decode(System.Text.Encoding.ASCII.GetBytes(csrPem));
            csr = CsrReader.ReadAndVerify(der);
        }
        catch (PkiException e)
        {
            return CsrReview.Reject(use, e.Message);
        }

        var charging = profileUse == CertificateSigningUse.ChargingStationCertificate;
        var profileId = charging ? options.ChargingStationProfileId : options.V2GProfileId;
        if (!ca.Profiles.TryGet(profileId, out var profile)) return CsrReview.Reject(use, $"No certificate profile {profileId} is configured.");
        if (!profile.Keys.Contains(csr.KeyAlgorithm.ProfileName(), StringComparer.OrdinalIgnoreCase))
            return CsrReview.Reject(use, $"The key must be {string.Join(" or ", profile.Keys)}, not {csr.KeyAlgorithm.ProfileName()}.");

        var attributes = DistinguishedNames.Attributes(csr.Subject);
        var organizations = attributes.Where(a => a.Name == "O").Select(a => a.Value).ToList();
        if (organizations.Count != 1 || organizations[0] != station.CpoOrganization)
            return CsrReview.Reject(use, $"The subject's O must be the CPO's organization '{station.CpoOrganization}'.");
        var cn = DistinguishedNames.CommonName(csr.Subject);
        if (string.IsNullOrEmpty(cn)) return CsrReview.Reject(use, "The subject has no CN.");

        // The profile's subject rules, checked now so that an Accepted CSR does not fail at issuance.
        if (profile.Subject.Required.FirstOrDefault(r => attributes.All(a => a.Name != r)) is { } missing)
            return CsrReview.Reject(use, $"The subject lacks {missing}.");
        if (attributes.FirstOrDefault(a => !profile.Subject.Allowed.Contains(a.Name)) is { Name: not null } extra)
            return CsrReview.Reject(use, $"The subject may not carry {extra.Name}.");
        if (profile.Subject.DomainComponent.Count > 0 && attributes.Any(a => a.Name == "DC" && !profile.Subject.DomainComponent.Contains(a.Value)))
            return CsrReview.Reject(use, $"DC must be {string.Join(" or ", profile.Subject.DomainComponent)}.");

        var stationName = cn == station.StationId || (station.SerialNumber != null && cn == station.SerialNumber);
        var seccName = profile.Subject.CommonName switch
        {
            CommonNameRule.EvseId => EvseId.IsValid(cn),
            CommonNameRule.SeccId => EvseId.IsValidSeccId(cn),
            _ => EvseId.IsValid(cn) || EvseId.IsValidSeccId(cn),
        };
        if (!(charging ? stationName : seccName))
            return CsrReview.Reject(use, !charging
                ? $"The CN '{cn}' is not an {(profile.Subject.CommonName == CommonNameRule.SeccId ? "SECC ID" : "EVSE ID")}."
                : $"The CN '{cn}' is neither the station's serial number nor its identity.");
        return new CsrReview(true, "", use, der, profileId, charging ? options.ChargingStationIssuerId : options.V2GIssuerId);
    }

    public async Task<string> SignAsync(StationRecord station, CsrReview review, CancellationToken ct = default)
    {
        if (!review.Accepted || review.CsrDer == null || review.ProfileId == null || review.IssuerId == null)
            throw new InvalidOperationException("Only an accepted CSR can be signed.");
        var issued = await ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = review.ProfileId,
            IssuerId = review.IssuerId,
            Csr = review.CsrDer,
            Actor = "ocpp-station:" + station.StationId,
        }, ct);
        // Leaf first, then the sub-CAs; the station already trusts (or must be given) the root (OCPP 2.0.1 A02.FR.08).
        var sb = new System.Text.StringBuilder();
        foreach (var c in new[] { issued.Certificate }.Concat(issued.IssuerChain).Where(c => !c.SubjectDN.Equivalent(c.IssuerDN, true)))
            sb.Append(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", c.GetEncoded())).Append('\n');
        return sb.ToString();
    }
}
