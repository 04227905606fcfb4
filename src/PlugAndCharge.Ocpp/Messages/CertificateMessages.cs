using System.Text.Json.Serialization;

namespace PlugAndCharge.Ocpp.Messages;

// Payload records of the certificate messages, named and shaped as OCPP 2.0.1 / 2.1 define them (OCA JSON schemas).
// Optional fields are null when absent; 2.1-only fields stay null for 2.0.1 and 1.6.

public sealed record StatusInfo(string ReasonCode, string? AdditionalInfo = null);

public sealed record IdTokenData([property: JsonPropertyName("idToken")] string Token, string Type);

public sealed record IdTokenInfo(string Status);

public sealed record OcspRequestData(string HashAlgorithm, string IssuerNameHash, string IssuerKeyHash, string SerialNumber,
    [property: JsonPropertyName("responderURL")] string ResponderUrl);

public sealed record CertificateHashData(string HashAlgorithm, string IssuerNameHash, string IssuerKeyHash, string SerialNumber);

public sealed record AuthorizeRequest(IdTokenData IdToken, string? Certificate, IReadOnlyList<OcspRequestData>? Iso15118CertificateHashData);

public sealed record AuthorizeResponse(IdTokenInfo IdTokenInfo, string? CertificateStatus);

public sealed record Get15118EVCertificateRequest(string Iso15118SchemaVersion, string Action, string ExiRequest,
    int? MaximumContractCertificateChains = null,
    [property: JsonPropertyName("prioritizedEMAIDs")] IReadOnlyList<string>? PrioritizedEmaids = null);

public sealed record Get15118EVCertificateResponse(string Status, string ExiResponse, StatusInfo? StatusInfo = null, int? RemainingContracts = null);

public sealed record GetCertificateStatusRequest(OcspRequestData OcspRequestData);

public sealed record GetCertificateStatusResponse(string Status, string? OcspResult = null, StatusInfo? StatusInfo = null);

public sealed record SignCertificateRequest(string Csr, string? CertificateType = null, int? RequestId = null);

public sealed record SignCertificateResponse(string Status, StatusInfo? StatusInfo = null);

public sealed record CertificateSignedRequest(string CertificateChain, string? CertificateType = null, int? RequestId = null);

public sealed record CertificateSignedResponse(string Status, StatusInfo? StatusInfo = null);

public sealed record CertificateStatusRequestInfo(CertificateHashData CertificateHashData, string Source, IReadOnlyList<string> Urls);

public sealed record GetCertificateChainStatusRequest(IReadOnlyList<CertificateStatusRequestInfo> CertificateStatusRequests);

public sealed record CertificateStatusEntry(CertificateHashData CertificateHashData, string Source, string Status, string NextUpdate);

public sealed record GetCertificateChainStatusResponse(IReadOnlyList<CertificateStatusEntry> CertificateStatus);

public sealed record InstallCertificateRequest(string CertificateType, string Certificate);

public sealed record InstallCertificateResponse(string Status, StatusInfo? StatusInfo = null);

public sealed record GetInstalledCertificateIdsRequest(IReadOnlyList<string>? CertificateType = null);

public sealed record CertificateHashDataChain(string CertificateType, CertificateHashData CertificateHashData, IReadOnlyList<CertificateHashData>? ChildCertificateHashData = null);

public sealed record GetInstalledCertificateIdsResponse(string Status, IReadOnlyList<CertificateHashDataChain>? CertificateHashDataChain = null, StatusInfo? StatusInfo = null);

public sealed record DeleteCertificateRequest(CertificateHashData CertificateHashData);

public sealed record DeleteCertificateResponse(string Status, StatusInfo? StatusInfo = null);

public sealed record TriggerMessageRequest(string RequestedMessage);

public sealed record TriggerMessageResponse(string Status, StatusInfo? StatusInfo = null);

/// <summary>OCPP 1.6 DataTransfer; for Plug &amp; Charge <see cref="Data"/> is the 2.0.1 payload as a JSON string.</summary>
public sealed record DataTransferRequest(string VendorId, string? MessageId = null, string? Data = null);

public sealed record DataTransferResponse(string Status, string? Data = null);

/// <summary>What the OCPP 1.6 Plug &amp; Charge extension calls its DataTransfer vendor (OCA "Using ISO 15118 Plug &amp; Charge with OCPP 1.6").</summary>
public static class Iso15118Pnc
{
    public const string VendorId = "org.openchargealliance.iso15118pnc";

    /// <summary>Station-to-CSMS messages we answer inside DataTransfer.</summary>
    public static IReadOnlySet<string> StationMessages { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Authorize", "GetCertificateStatus", "Get15118EVCertificate", "SignCertificate",
    };
}
