using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.Est;

/// <summary>
/// EST enrollment (RFC 7030) with the paths of OPCP's est.v1: <c>simpleenroll</c> per CA role and ISO version, and
/// <c>cacerts</c>. Bodies are base64 (RFC 7030 §4: Content-Transfer-Encoding base64); responses are PKCS#7 certs-only.
/// Each role enrolls only its own kind of leaf, for its own identities: a CPO SECC certificates of its operator IDs, an
/// eMSP contract certificates of its provider IDs, an OEM provisioning certificates of its WMIs.
/// </summary>
public static class EstEndpoints
{
    private sealed record Enrollment(ParticipantRole Role, string LeafProfile, string IssuerProfile, string What);

    private static Enrollment? For(string ca, string standard)
    {
        // OPCP allows a prefix before the role ("^(\w+-)?(mo|cpo|oem|cps|veh)$").
        var role = ca.Contains('-') ? ca[(ca.LastIndexOf('-') + 1)..] : ca;
        return role.ToLowerInvariant() switch
        {
            "cpo" => new(ParticipantRole.Cpo, $"{standard}/secc", $"{standard}/cpo-subca2", "SECC certificates"),
            "mo" => new(ParticipantRole.Emsp, $"{standard}/contract", $"{standard}/mo-subca2", "contract certificates"),
            "oem" => new(ParticipantRole.Oem, $"{standard}/oem-provisioning", $"{standard}/oem-subca2", "provisioning certificates"),
            "cps" => new(ParticipantRole.Admin, $"{standard}/cps-leaf", $"{standard}/cps-subca2", "CPS signing certificates"),
            _ => null,
        };
    }

    private static string? Standard(string isoVersion) => isoVersion.ToUpperInvariant() switch
    {
        "ISO15118-2" or "ISO-15118-2" or "ISO2" => "iso2",
        "ISO15118-20" or "ISO-15118-20" or "ISO20" => "iso20",
        _ => null,
    };

    public static IEndpointRouteBuilder MapEstEndpoints(this IEndpointRouteBuilder app)
    {
        var est = app.MapGroup("").WithTags("EST").ProducesProblems(ApiConventions.ParticipantProblems);
        est.MapPost("/.well-known/est/{ca}/simpleenroll/{isoVersion}", SimpleEnrollAsync)
            .RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithName("simpleenroll")
            .WithSummary("Enroll a leaf certificate from a base64 PKCS#10 CSR (RFC 7030 §4.2.1)");
        est.MapPost("/.well-known/est/{ca}/simpleenroll", SimpleEnrollIso2Async)
            .RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithSummary("simpleenroll for ISO 15118-2");
        // cacerts is public (RFC 7030 §4.1.1: clients need it before they can authenticate the server).
        est.MapGet("/.well-known/est/{ca}/cacerts/{isoVersion}", CaCertsAsync).WithSummary("The issuing CA chain (RFC 7030 §4.1)");
        est.MapGet("/{ca}/cacerts/{isoVersion}/{algorithm}", OpcpCaCertsAsync).WithSummary("OPCP path of cacerts");
        return app;
    }

    private static Task<Results<CertsOnlyResult, ProblemHttpResult>> SimpleEnrollIso2Async(string ca, HttpContext http, CertificateIssuer issuer,
        ICertificateAuthorityStore cas) => SimpleEnrollAsync(ca, "ISO15118-2", http, issuer, cas);

    private static async Task<Results<CertsOnlyResult, ProblemHttpResult>> SimpleEnrollAsync(string ca, string isoVersion, HttpContext http,
        CertificateIssuer issuer, ICertificateAuthorityStore cas)
    {
        var standard = Standard(isoVersion);
        if (standard == null) return Problems.BadRequest($"iso-version '{isoVersion}' is not ISO15118-2 or ISO15118-20.");
        var enrollment = For(ca, standard);
        if (enrollment == null) return Problems.NotFound($"No EST CA '{ca}' here (cpo, mo, oem, cps).");
        var participant = http.User.Participant()!;
        if (participant.Role != enrollment.Role && !participant.IsAdmin)
            return Problems.Forbidden($"A {participant.Role} participant may not enroll {enrollment.What}.");

        byte[] csrDer;
        try { csrDer = CsrReader.Decode(await ReadBodyAsync(http)); }
        catch (Exception e) when (e is FormatException or PkiException or InvalidDataException)
        {
            return Problems.BadRequest("The body must be a base64 PKCS#10 certificate request: " + e.Message);
        }
        var csr = CsrReader.ReadAndVerify(csrDer);
        var cn = csr.Subject.GetValueList(X509Name.CN).FirstOrDefault() ?? "";
        if (!participant.IsAdmin && ScopeProblem(participant, enrollment.Role, cn) is { } problem) return Problems.Forbidden(problem);

        var issuingCa = await ActiveCaAsync(cas, enrollment.IssuerProfile, http.RequestAborted);
        if (issuingCa == null) return Problems.NotFound($"No active {enrollment.IssuerProfile} CA is configured.");
        var issued = await issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = enrollment.LeafProfile, IssuerId = issuingCa.Id, Csr = csrDer, Actor = Scopes.Actor(http),
        }, http.RequestAborted);
        return CertsOnly([issued.Certificate]);
    }

    private static string? ScopeProblem(Participant p, ParticipantRole role, string cn) => role switch
    {
        ParticipantRole.Emsp => Emaid.TryParse(cn, IdentifierStrictness.Lenient, out var emaid, out var error)
            ? p.OwnsEmaid(emaid) ? null : $"EMAID {cn} is not under one of your provider IDs ({string.Join(", ", p.Identities)})."
            : $"The CSR's CN is not an EMAID: {error}",
        ParticipantRole.Oem => Pcid.TryParse(cn, out var pcid, out var error)
            ? p.OwnsPcid(pcid) ? null : $"PCID {cn} is not under one of your WMIs ({string.Join(", ", p.Identities)})."
            : $"The CSR's CN is not a PCID: {error}",
        ParticipantRole.Cpo => p.OwnsEvseId(cn) ? null : $"The CSR's CN {cn} is not an EVSE ID of one of your operator IDs ({string.Join(", ", p.Identities)}).",
        _ => "Only the hub operator enrolls CPS certificates.",
    };

    private static Task<Results<CertsOnlyResult, ProblemHttpResult>> OpcpCaCertsAsync(string ca, string isoVersion, string algorithm,
        ICertificateAuthorityStore cas, CertificateAuthorityDirectory authorities, CancellationToken ct) => CaCertsAsync(ca, isoVersion, cas, authorities, ct);

    private static async Task<Results<CertsOnlyResult, ProblemHttpResult>> CaCertsAsync(string ca, string isoVersion, ICertificateAuthorityStore cas,
        CertificateAuthorityDirectory authorities, CancellationToken ct)
    {
        var standard = Standard(isoVersion);
        var enrollment = standard == null ? null : For(ca, standard);
        if (enrollment == null) return Problems.NotFound($"No EST CA '{ca}' for '{isoVersion}'.");
        var issuer = await ActiveCaAsync(cas, enrollment.IssuerProfile, ct);
        if (issuer == null) return Problems.NotFound($"No active {enrollment.IssuerProfile} CA is configured.");
        var authority = await authorities.GetAsync(issuer.Id, ct);
        return CertsOnly(authority.ChainIncludingSelf);
    }

    private static async Task<CaRecord?> ActiveCaAsync(ICertificateAuthorityStore cas, string profile, CancellationToken ct) =>
        (await cas.ListAsync(ct)).FirstOrDefault(c => c.ProfileId == profile && c.Status == CaStatus.Active);

    private static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        using var ms = new MemoryStream();
        await http.Request.Body.CopyToAsync(ms, http.RequestAborted);
        if (ms.Length > 64 * 1024) throw new InvalidDataException("The request is larger than 64 KiB.");
        var bytes = ms.ToArray();
        if (bytes.Length > 0 && bytes[0] == 0x30) return bytes; // raw DER, as some clients send despite RFC 7030
        var text = Encoding.ASCII.GetString(bytes);
        return text.Contains("-----BEGIN", StringComparison.Ordinal) ? bytes : Convert.FromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));
    }

    /// <summary>A degenerate CMS SignedData holding only certificates (RFC 5272 Simple PKI Response), base64 per RFC 7030.</summary>
    public static CertsOnlyResult CertsOnly(IEnumerable<Org.BouncyCastle.X509.X509Certificate> certificates)
    {
        var certs = new Asn1EncodableVector();
        foreach (var c in certificates) certs.Add(c.CertificateStructure);
        var signedData = new SignedData(new DerSet(), new ContentInfo(CmsObjectIdentifiers.Data, null), new DerSet(certs), null, new DerSet());
        var der = new ContentInfo(CmsObjectIdentifiers.SignedData, signedData).GetEncoded(Asn1Encodable.Der);
        return new CertsOnlyResult(der);
    }

    /// <summary>200 with a base64 PKCS#7 certs-only body (RFC 7030 §4.1.3, §4.2.3).</summary>
    public sealed class CertsOnlyResult(byte[] der) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
    {
        public const string ContentType = "application/pkcs7-mime; smime-type=certs-only";

        public int? StatusCode => StatusCodes.Status200OK;

        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.ContentType = ContentType;
            http.Response.Headers["Content-Transfer-Encoding"] = "base64";
            return http.Response.WriteAsync(Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\r\n");
        }

        public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
            builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [ContentType]));
    }
}
