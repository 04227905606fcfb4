using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.Cps;

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

    /// <summary>OPCP cps <c>SignedContractDataResponse</c>.</summary>
    /// <param name="SignedData">The signed CertificateInstallationRes (EXI), base64.</param>
    public sealed record SignedContractDataResponse(string? Pcid, string Emaid, string XsdMsgDefNamespace, string SignedData,
        string CpsV2GRootCertificateFingerprint, string CpsRootDistinguishedName, string? MetaData);

    public sealed record GeneratedContract(string Emaid, string Pcid, string XsdMsgDefNamespace);

    public sealed record CpsSigners(IReadOnlyList<CpsSignerView> CpsCertificates);

    /// <summary>A CPS signer: its leaf, its sub-CAs (base64 DER) and the V2G root it chains to.</summary>
    public sealed record CpsSignerView(string CpsDistinguishedName, string CpsCertificate, DateTimeOffset ValidFrom, DateTimeOffset ValidTo,
        string? OrganizationName, string CpsV2GRootCertificateFingerprint, string CpsRootDistinguishedName, string? CpsSubCa1Certificate,
        string? CpsSubCa2Certificate, string XsdMsgDefNamespace);

    public static IEndpointRouteBuilder MapCpsEndpoints(this IEndpointRouteBuilder app)
    {
        var emsp = app.MapGroup("/v1/cps").RequireAuthorization(ParticipantAuthentication.Policies.Emsp).WithTags("CPS")
            .ProducesProblems(ApiConventions.ParticipantProblems).ProducesProblems(501);
        emsp.MapPut("/contractData/signed", SignContractDataAsync)
            .WithSummary("Sign contract data made by your MO CA as CPS; with a pcid it is also stored in the contract certificate pool");
        emsp.MapPut("/signedContractData", SignLegacyAsync)
            .WithSummary("Deprecated in OPCP: sign contract data without storing it (use PUT /v1/cps/contractData/signed)");
        emsp.MapPut("/forward/signedContractData", SignAndStoreLegacyAsync)
            .WithSummary("Deprecated in OPCP: sign contract data and store it for the vehicle (use PUT /v1/cps/contractData/signed)");
        emsp.MapPut("/generate/signedContractData", GenerateAsync)
            .WithSummary("Our MO Sub-CA makes the contract and its certificate for the vehicle (the data is signed when the car or OEM asks for it)");

        app.MapGet("/cps/signer", Signers).RequireAuthorization(ParticipantAuthentication.Policies.AnyParticipant).WithTags("CPS")
            .ProducesProblems(ApiConventions.ParticipantProblems).WithSummary("The CPS signers and the V2G roots they chain to");
        return app;
    }

    private static Task<Results<Created<SignedContractDataResponse>, ProblemHttpResult>> SignContractDataAsync(SignContractDataRequest body,
        ContractOptions options, ContractDataSigningService signing, IParticipantStore participants, HttpContext http) =>
        SignAsync(body, storeRequired: false, options, signing, participants, http);

    private static Task<Results<Created<SignedContractDataResponse>, ProblemHttpResult>> SignLegacyAsync(CreateSignedContractDataRequest body,
        ContractOptions options, ContractDataSigningService signing, IParticipantStore participants, HttpContext http) =>
        SignAsync(FromLegacy(body) with { Pcid = null }, storeRequired: false, options, signing, participants, http);

    private static Task<Results<Created<SignedContractDataResponse>, ProblemHttpResult>> SignAndStoreLegacyAsync(CreateSignedContractDataRequest body,
        ContractOptions options, ContractDataSigningService signing, IParticipantStore participants, HttpContext http) =>
        SignAsync(FromLegacy(body), storeRequired: true, options, signing, participants, http);

    private static async Task<Results<Created<GeneratedContract>, ProblemHttpResult>> GenerateAsync(GenerateSignedContractDataRequest body,
        ContractOptions options, [FromServices] ContractRegistry contracts, IParticipantStore participants, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(body.Emaid) || string.IsNullOrWhiteSpace(body.Pcid)) return Problems.BadRequest("emaid and pcid are required.");
        if (body.SubscriptionUrl != null)
            return Problems.NotImplemented("subscriptionUrl is not supported: register a webhook endpoint (OEMs) or poll GET /v1/contracts/{emaid}.");
        var emaid = Scopes.ParseEmaid(options, body.Emaid);
        var owner = await Scopes.EmspOwnerAsync(http, participants, emaid.ProviderPrefix);
        var standard = body.XsdMsgDefNamespace == null ? (IsoStandard?)null : IsoStandards.FromNamespace(body.XsdMsgDefNamespace);
        var actor = Scopes.Actor(http);
        Contract contract;
        try
        {
            contract = await contracts.BindAsync(owner, new ContractBinding
            {
                Pcid = body.Pcid, Emaid = body.Emaid, Standard = standard, ContractEnds = body.ContractEnds, IssueCertificate = true,
            }, actor, http.RequestAborted);
        }
        catch (ContractException e) when (e.Error == ContractError.AlreadyExists)
        {
            // OPCP: calling again with the same PCID and EMAID replaces the contract data (here: a new certificate).
            var existing = await contracts.GetActiveAsync(owner, emaid.Normalized, http.RequestAborted);
            if (existing.Pcid != Scopes.ParsePcid(body.Pcid).Value) throw;
            contract = await contracts.IssueCertificateAsync(owner, existing.Emaid, actor, http.RequestAborted);
        }
        return TypedResults.Created($"/v1/contracts/{contract.Emaid}", new GeneratedContract(contract.Emaid, contract.Pcid, contract.Standard.Namespace()));
    }

    private static Ok<CpsSigners> Signers(CpsSignerDirectory signers) => TypedResults.Ok(new CpsSigners(signers.All.Select(s => new CpsSignerView(
        s.Leaf.SubjectDN.ToString(), Convert.ToBase64String(s.LeafDer), CertificateFacts.NotBefore(s.Leaf), CertificateFacts.NotAfter(s.Leaf),
        CertificateFacts.Organization(s.Leaf), s.RootFingerprint, s.Root.SubjectDN.ToString(),
        // Signers keep their sub-CAs nearest first: Sub-CA 2, then Sub-CA 1.
        s.SubCaDers.Count > 0 ? Convert.ToBase64String(s.SubCaDers[^1]) : null,
        s.SubCaDers.Count > 1 ? Convert.ToBase64String(s.SubCaDers[0]) : null,
        s.Standard.Namespace())).ToList()));

    /// <summary>
    /// CPS signing of eMSP-made contract data (cps PUT contractData/signed, ccp PUT signedContractData): 201 with OPCP's
    /// <c>SignedContractDataResponse</c>; <paramref name="storeRequired"/> makes the PCID mandatory (the data goes to the pool).
    /// </summary>
    internal static async Task<Results<Created<SignedContractDataResponse>, ProblemHttpResult>> SignAsync(SignContractDataRequest body, bool storeRequired,
        ContractOptions options, ContractDataSigningService signing, IParticipantStore participants, HttpContext http)
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
        var encrypted = Base64OrHex.Decode(data.ContractSignatureEncryptedPrivateKey);
        if (encrypted == null) return Problems.BadRequest("contractData.contractSignatureEncryptedPrivateKey must be base64 (or hex).");
        var dh = Base64OrHex.Decode(data.DHpublickey);
        if (dh == null) return Problems.BadRequest("contractData.dHpublickey must be base64 (or hex).");
        if (body.Pcid != null) _ = Scopes.ParsePcid(body.Pcid);

        // Whose EMAID: the body's, else the certificate's CN (the service checks both agree and are the caller's).
        var emaidText = body.Emaid ?? CertificateFacts.CommonName(CertificateFacts.Read(leaf, "contract certificate"));
        var emaid = Scopes.ParseEmaid(options, emaidText);
        var owner = await Scopes.EmspOwnerAsync(http, participants, emaid.ProviderPrefix);
        var signed = await signing.SignAsync(owner, new EmspContractData
        {
            ContractCertificate = leaf, SubCaCertificates = sub2 == null ? [sub1] : [sub2, sub1], EncryptedPrivateKey = encrypted, DhPublicKey = dh,
            Emaid = body.Emaid, Pcid = body.Pcid, Standard = IsoStandards.FromNamespace(body.XsdMsgDefNamespace),
            CpsV2GRootFingerprint = string.IsNullOrWhiteSpace(body.CpsV2GRootCertificateFingerprint) ? null : body.CpsV2GRootCertificateFingerprint,
        }, Scopes.Actor(http), http.RequestAborted);
        var response = new SignedContractDataResponse(signed.Pcid, signed.Emaid, signed.Standard.Namespace(), Convert.ToBase64String(signed.CertificateInstallationRes),
            signed.CpsV2GRootFingerprint, signed.CpsRootDistinguishedName, body.MetaData);
        // Stored for a vehicle: the contract's URL; signed only: nothing was stored to point at.
        return TypedResults.Created(signed.Pcid != null ? $"/v1/contracts/{signed.Emaid}" : null, response);
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
