using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Endpoints;

/// <summary>
/// OPCP's certificate provisioning service (cps.v1) for eMSPs: our CPS signs contract data an eMSP's own MO CA made
/// (as a CertificateInstallationRes) and, with a PCID, keeps it in the contract certificate pool for the OEM and CSMSs;
/// "generate" has our MO Sub-CA make the contract; every participant may list the CPS signers.
/// </summary>
public static class CpsEndpoints
{
    /// <summary>OPCP cps <c>ContractData</c>: certificates base64 DER (or PEM), key fields base64 (or hex).</summary>
    public sealed record ContractData(string? ContractCertificate, string? ContractSubCa2Certificate, string? ContractSubCa1Certificate,
        string? ContractSignatureEncryptedPrivateKey, string? DHpublickey);

    /// <summary>OPCP cps <c>SignedContractDataRequest</c> (also the body of CCP PUT /v1/ccp/signedContractData here).</summary>
    public sealed record SignContractDataRequest(ContractData? ContractData, string? Pcid, string? Emaid, string? XsdMsgDefNamespace,
        string? CpsV2GRootCertificateFingerprint, string? SignedContractDataXML, string? MetaData);

    /// <summary>OPCP cps <c>contract-data</c> of the deprecated calls: the chain nested, the EMAID inside.</summary>
    public sealed record LegacyChain(string? ContractSignatureCertChainCertificate, IReadOnlyList<string>? ContractSignatureCertChainSubCertificates);
    public sealed record LegacyContractData(LegacyChain? ContractSignatureCertChain, string? ContractSignatureEncryptedPrivateKey, string? DHpublickey, string? Emaid);
    public sealed record CreateSignedContractDataRequest(string? XsdMsgDefNamespace, LegacyContractData? ContractData, string? Pcid, string? Emaid,
        string? CpsV2GRootCertificateFingerprint, string? MetaData);

    /// <summary>OPCP cps <c>GenerateSignedContractDataRequest</c>.</summary>
    public sealed record GenerateSignedContractDataRequest(string? Emaid, string? Pcid, string? XsdMsgDefNamespace, DateTimeOffset? ContractBegins,
        DateTimeOffset? ContractEnds, string? SubscriptionUrl, string? CpsV2GRootCertificateFingerprint, string? MetaData);

    public static IEndpointRouteBuilder MapCpsEndpoints(this IEndpointRouteBuilder app)
    {
        var emsp = app.MapGroup("/v1/cps").RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CPS");
        emsp.MapPut("/contractData/signed", (SignContractDataRequest body, ContractServices contracts, HttpContext http) =>
            SignAsync(body, storeRequired: false, contracts, http))
            .WithSummary("Sign contract data made by your MO CA as CPS; with a pcid it is also stored in the contract certificate pool");

        emsp.MapPut("/signedContractData", (CreateSignedContractDataRequest body, ContractServices contracts, HttpContext http) =>
            SignAsync(FromLegacy(body) with { Pcid = null }, storeRequired: false, contracts, http))
            .WithSummary("Deprecated in OPCP: sign contract data without storing it (use PUT /v1/cps/contractData/signed)");

        emsp.MapPut("/forward/signedContractData", (CreateSignedContractDataRequest body, ContractServices contracts, HttpContext http) =>
            SignAsync(FromLegacy(body), storeRequired: true, contracts, http))
            .WithSummary("Deprecated in OPCP: sign contract data and store it for the vehicle (use PUT /v1/cps/contractData/signed)");

        emsp.MapPut("/generate/signedContractData", async (GenerateSignedContractDataRequest body, ContractServices contracts, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(body.Emaid) || string.IsNullOrWhiteSpace(body.Pcid)) return Problems.BadRequest("emaid and pcid are required.");
            if (body.SubscriptionUrl != null)
                return Problems.NotImplemented("subscriptionUrl is not supported: register a webhook endpoint (OEMs) or poll GET /v1/contracts/{emaid}.");
            var emaid = Scopes.ParseEmaid(contracts, body.Emaid);
            var owner = await Scopes.EmspOwnerAsync(http, emaid.ProviderPrefix);
            var standard = body.XsdMsgDefNamespace == null ? (IsoStandard?)null : IsoStandards.FromNamespace(body.XsdMsgDefNamespace);
            var actor = ParticipantEndpoints.Actor(http);
            Contract contract;
            try
            {
                contract = await contracts.Contracts.BindAsync(owner, new ContractBinding
                {
                    Pcid = body.Pcid, Emaid = body.Emaid, Standard = standard, ContractEnds = body.ContractEnds, IssueCertificate = true,
                }, actor, http.RequestAborted);
            }
            catch (ContractException e) when (e.Error == ContractError.AlreadyExists)
            {
                // OPCP: calling again with the same PCID and EMAID replaces the contract data (here: a new certificate).
                var existing = await contracts.Contracts.GetActiveAsync(owner, emaid.Normalized, http.RequestAborted);
                if (existing.Pcid != Scopes.ParsePcid(body.Pcid).Value) throw;
                contract = await contracts.Contracts.IssueCertificateAsync(owner, existing.Emaid, actor, http.RequestAborted);
            }
            return Results.Created($"/v1/contracts/{contract.Emaid}", new { emaid = contract.Emaid, pcid = contract.Pcid, xsdMsgDefNamespace = contract.Standard.Namespace() });
        }).WithSummary("Our MO Sub-CA makes the contract and its certificate for the vehicle (the data is signed when the car or OEM asks for it)");

        app.MapGet("/cps/signer", (ContractServices contracts) => Results.Ok(new
        {
            cpsCertificates = contracts.Signers.All.Select(s => new
            {
                cpsDistinguishedName = s.Leaf.SubjectDN.ToString(),
                cpsCertificate = Convert.ToBase64String(s.LeafDer),
                validFrom = CertificateFacts.NotBefore(s.Leaf),
                validTo = CertificateFacts.NotAfter(s.Leaf),
                organizationName = CertificateFacts.Organization(s.Leaf),
                cpsV2GRootCertificateFingerprint = s.RootFingerprint,
                cpsRootDistinguishedName = s.Root.SubjectDN.ToString(),
                // Signers keep their sub-CAs nearest first: Sub-CA 2, then Sub-CA 1.
                cpsSubCa1Certificate = s.SubCaDers.Count > 0 ? Convert.ToBase64String(s.SubCaDers[^1]) : null,
                cpsSubCa2Certificate = s.SubCaDers.Count > 1 ? Convert.ToBase64String(s.SubCaDers[0]) : null,
                xsdMsgDefNamespace = s.Standard.Namespace(),
            }),
        })).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("CPS").WithSummary("The CPS signers and the V2G roots they chain to");
        return app;
    }

    /// <summary>
    /// CPS signing of eMSP-made contract data (cps PUT contractData/signed, ccp PUT signedContractData): 201 with OPCP's
    /// <c>SignedContractDataResponse</c>; <paramref name="storeRequired"/> makes the PCID mandatory (the data goes to the pool).
    /// </summary>
    internal static async Task<IResult> SignAsync(SignContractDataRequest body, bool storeRequired, ContractServices contracts, HttpContext http)
    {
        if (body.ContractData is not { } data)
            return body.SignedContractDataXML != null
                ? Problems.NotImplemented("Storing contract data signed by another CPS (signedContractDataXML) is not supported: send contractData and our CPS signs it.")
                : Problems.BadRequest("contractData is required.");
        if (storeRequired && string.IsNullOrWhiteSpace(body.Pcid)) return Problems.BadRequest("pcid is required: the signed data is stored for that vehicle.");
        if (Pem.DecodeChain(("contractData.contractCertificate", data.ContractCertificate), ("contractData.contractSubCa2Certificate", data.ContractSubCa2Certificate),
                ("contractData.contractSubCa1Certificate", data.ContractSubCa1Certificate), out var problem) is not { } chain)
            return Problems.BadRequest(problem);
        var (leaf, sub2, sub1) = chain;
        var encrypted = Scopes.Binary(data.ContractSignatureEncryptedPrivateKey);
        if (encrypted == null) return Problems.BadRequest("contractData.contractSignatureEncryptedPrivateKey must be base64 (or hex).");
        var dh = Scopes.Binary(data.DHpublickey);
        if (dh == null) return Problems.BadRequest("contractData.dHpublickey must be base64 (or hex).");
        if (body.Pcid != null) _ = Scopes.ParsePcid(body.Pcid);

        // Whose EMAID: the body's, else the certificate's CN (the service checks both agree and are the caller's).
        var emaidText = body.Emaid ?? CertificateFacts.CommonName(CertificateFacts.Read(leaf, "contract certificate"));
        var emaid = Scopes.ParseEmaid(contracts, emaidText);
        var owner = await Scopes.EmspOwnerAsync(http, emaid.ProviderPrefix);
        var signed = await contracts.ContractDataSigning.SignAsync(owner, new EmspContractData
        {
            ContractCertificate = leaf, SubCaCertificates = sub2 == null ? [sub1] : [sub2, sub1], EncryptedPrivateKey = encrypted, DhPublicKey = dh,
            Emaid = body.Emaid, Pcid = body.Pcid, Standard = IsoStandards.FromNamespace(body.XsdMsgDefNamespace),
            CpsV2GRootFingerprint = string.IsNullOrWhiteSpace(body.CpsV2GRootCertificateFingerprint) ? null : body.CpsV2GRootCertificateFingerprint,
        }, ParticipantEndpoints.Actor(http), http.RequestAborted);
        var response = new
        {
            pcid = signed.Pcid, emaid = signed.Emaid, xsdMsgDefNamespace = signed.Standard.Namespace(),
            signedData = Convert.ToBase64String(signed.CertificateInstallationRes),
            cpsV2GRootCertificateFingerprint = signed.CpsV2GRootFingerprint, cpsRootDistinguishedName = signed.CpsRootDistinguishedName,
            metaData = body.MetaData,
        };
        return signed.Pcid != null ? Results.Created($"/v1/contracts/{signed.Emaid}", response) : Results.Json(response, statusCode: 201);
    }

    private static SignContractDataRequest FromLegacy(CreateSignedContractDataRequest body)
    {
        var chain = body.ContractData?.ContractSignatureCertChain;
        var subs = chain?.ContractSignatureCertChainSubCertificates ?? [];
        var data = body.ContractData == null ? null : new ContractData(
            chain?.ContractSignatureCertChainCertificate,
            subs.Count > 1 ? subs[0] : null, // ContractSignatureCertChain order: Sub-CA 2, then Sub-CA 1
            subs.Count > 0 ? subs[^1] : null,
            body.ContractData.ContractSignatureEncryptedPrivateKey, body.ContractData.DHpublickey);
        return new SignContractDataRequest(data, body.Pcid, body.Emaid ?? body.ContractData?.Emaid, body.XsdMsgDefNamespace, body.CpsV2GRootCertificateFingerprint, null, body.MetaData);
    }
}
