using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
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
    ValueTask<CsrReview> ReviewAsync(StationRecord station, string csrPem, CertificateSigningUse use, CancellationToken ct = default);

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
/// key the profile allows, name the station's CPO as O, and as CN names the station's owner gave it: the station id or
/// the serial number its CPO registered (ChargingStationCertificate; never the serial the station announces at boot), or
/// an EVSE ID / SECC ID under one of the CPO's operator IDs (V2GCertificate, as EST enrollment checks it) — OCPP 2.0.1
/// A02.FR.04, docs/domain.md §6. A charging station certificate we issue is bound to the station as a login for
/// security profile 3.
/// </summary>
public sealed class CaCertificateSigningService(ProfileCatalog profiles, CertificateIssuer issuer, StationCertificateOptions options, IParticipantStore participants, IStationStore stations)
    : ICertificateSigningService
{
    public async ValueTask<CsrReview> ReviewAsync(StationRecord station, string csrPem, CertificateSigningUse use, CancellationToken ct = default)
    {
        // The CPO as the hub knows it now: a station of a disabled or removed CPO gets nothing signed.
        var cpo = await participants.GetAsync(station.CpoId, ct);
        if (cpo is not { Role: ParticipantRole.Cpo, Disabled: false })
            return CsrReview.Reject(use, $"The station's CPO '{station.CpoId}' is not an active CPO of the hub.");
        if (use != CertificateSigningUse.Combined) return Review(station, cpo, csrPem, use, use);
        // One certificate for both uses: a station name makes it a charging station certificate, an EVSE ID a V2G one.
        var asStation = Review(station, cpo, csrPem, CertificateSigningUse.ChargingStationCertificate, use);
        return asStation.Accepted ? asStation : Review(station, cpo, csrPem, CertificateSigningUse.V2GCertificate, use);
    }

    private CsrReview Review(StationRecord station, Participant cpo, string csrPem, CertificateSigningUse profileUse, CertificateSigningUse use)
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
        if (!profiles.TryGet(profileId, out var profile)) return CsrReview.Reject(use, $"No certificate profile {profileId} is configured.");
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

        // The station's registered names only: SerialNumber is what the CPO registered, not what the station announced.
        var stationName = cn == station.StationId || (station.SerialNumber != null && cn == station.SerialNumber);
        var seccName = profile.Subject.CommonName switch
        {
            CommonNameRule.EvseId => EvseId.IsValid(cn),
            CommonNameRule.SeccId => EvseId.IsValidSeccId(cn),
            _ => EvseId.IsValid(cn) || EvseId.IsValidSeccId(cn),
        };
        if (!(charging ? stationName : seccName))
            return CsrReview.Reject(use, !charging
                ? $"The CN '{cn}' is neither the station's registered serial number nor its identity."
                : $"The CN '{cn}' is not an {(profile.Subject.CommonName == CommonNameRule.SeccId ? "SECC ID" : "EVSE ID")}.");
        // An EVSE ID (or SECC ID) names its operator in its first five characters; it must be one of the CPO's.
        if (!charging && !cpo.OwnsEvseId(cn))
            return CsrReview.Reject(use, $"The CN '{cn}' is not an EVSE ID of the CPO's operator IDs ({string.Join(", ", cpo.Identities)}).");
        return new CsrReview(true, "", use, der, profileId, charging ? options.ChargingStationIssuerId : options.V2GIssuerId);
    }

    public async Task<string> SignAsync(StationRecord station, CsrReview review, CancellationToken ct = default)
    {
        if (!review.Accepted || review.CsrDer == null || review.ProfileId == null || review.IssuerId == null)
            throw new InvalidOperationException("Only an accepted CSR can be signed.");
        var issued = await issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = review.ProfileId,
            IssuerId = review.IssuerId,
            Csr = review.CsrDer,
            Actor = "ocpp-station:" + station.StationId,
        }, ct);
        // The new charging station certificate logs this station (and only it) in over security profile 3.
        if (review.ProfileId == options.ChargingStationProfileId)
            await stations.AddClientCertificateAsync(new StationClientCertificate
            {
                StationId = station.StationId, Sha256 = StationClientCertificate.Fingerprint(issued.Certificate.GetEncoded()), CpoId = station.CpoId,
                Origin = StationCertificateOrigin.Issued, IssuerId = review.IssuerId, Serial = issued.Record.Serial,
                NotAfter = issued.Record.NotAfter,
            }, ct);
        // Leaf first, then the sub-CAs; the station already trusts (or must be given) the root (OCPP 2.0.1 A02.FR.08).
        var sb = new System.Text.StringBuilder();
        foreach (var c in new[] { issued.Certificate }.Concat(issued.IssuerChain).Where(c => !c.SubjectDN.Equivalent(c.IssuerDN, true)))
            sb.Append(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", c.GetEncoded())).Append('\n');
        return sb.ToString();
    }
}
