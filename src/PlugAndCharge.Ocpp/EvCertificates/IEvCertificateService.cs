namespace PlugAndCharge.Ocpp.EvCertificates;

public enum EvCertificateAction { Install, Update }

/// <summary>
/// A car's CertificateInstallationReq / CertificateUpdateReq as a station forwards it in Get15118EVCertificate.
/// <see cref="ExiRequest"/> is the base64 EXI exactly as received.
/// </summary>
/// <param name="Iso15118SchemaVersion">The message definition namespace, e.g. <c>urn:iso:15118:2:2013:MsgDef</c> (-2) or <c>urn:iso:std:iso:15118:-20:CommonMessages</c> (-20).</param>
public sealed record EvCertificateRequest(
    string StationId,
    string CpoId,
    string Iso15118SchemaVersion,
    EvCertificateAction Action,
    string ExiRequest,
    int? MaximumContractCertificateChains,
    IReadOnlyList<string>? PrioritizedEmaids);

/// <summary>
/// The answer for the station: <see cref="ExiResponse"/> is the base64 EXI CertificateInstallationRes/UpdateRes and is
/// present also when <see cref="Accepted"/> is false, carrying the ISO ResponseCode (chargers crash on empty answers).
/// </summary>
public sealed record EvCertificateResult(bool Accepted, string ExiResponse, string? ReasonCode = null, int? RemainingContracts = null);

/// <summary>
/// Contract provisioning as the OCPP side needs it (Get15118EVCertificate, OCPP 2.0.1 M01-M02 / 2.1 M01-M02):
/// implemented by PlugAndCharge.Contracts' installation service; tests use a stub.
/// </summary>
public interface IEvCertificateService
{
    Task<EvCertificateResult> ProcessAsync(EvCertificateRequest request, CancellationToken ct = default);

    /// <summary>
    /// The answer to a request the OCPP side will not have processed (the station's budget is spent, or the database is
    /// unavailable: <paramref name="reasonCode"/> says which): a complete FAILED response without any contract work.
    /// Without contract provisioning there is nothing to sign with.
    /// </summary>
    Task<EvCertificateResult> RefuseAsync(EvCertificateRequest request, string reasonCode, CancellationToken ct = default) =>
        Task.FromResult(new EvCertificateResult(false, "", reasonCode));
}
