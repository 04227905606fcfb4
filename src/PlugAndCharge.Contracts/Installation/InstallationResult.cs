namespace PlugAndCharge.Contracts.Installation;

/// <summary>
/// Why an installation or update did or did not deliver a contract, independent of the ISO part; each maps to the
/// part's own ResponseCode (<see cref="InstallationResults.Iso2Code"/>, <see cref="InstallationResults.Iso20Code"/>).
/// </summary>
public enum InstallationResult
{
    Ok,
    /// <summary>The request is not decodable EXI or not the expected message.</summary>
    Malformed,
    /// <summary>The request signature does not verify with the vehicle's (or old contract's) key.</summary>
    SignatureInvalid,
    /// <summary>The PCID is not in the provisioning certificate pool.</summary>
    UnknownVehicle,
    /// <summary>The vehicle has no active contract (or the EMAID of an update is unknown).</summary>
    NoContract,
    /// <summary>The vehicle's contracts were terminated.</summary>
    ContractCanceled,
    /// <summary>The provisioning (or old contract) certificate is revoked.</summary>
    CertificateRevoked,
    /// <summary>The provisioning (or old contract) certificate is expired.</summary>
    CertificateExpired,
    /// <summary>The certificate does not chain to a registered root under ISO 15118 rules.</summary>
    CertChainError,
    /// <summary>No CPS signer chains to a V2G root the vehicle listed.</summary>
    NoMatchingRoot,
    /// <summary>A key type we cannot deliver to (e.g. X448).</summary>
    Unsupported,
    /// <summary>Something on our side failed (database, key store); the vehicle may retry.</summary>
    InternalError,
    /// <summary>Not processed: the forwarding station asked more often than its budget allows.</summary>
    Throttled,
    /// <summary>The database was out of reach (down, restarting, timed out): a passing fault, the vehicle may retry.</summary>
    DatabaseUnavailable,
}

/// <summary>
/// What an installation returned: the EXI response (always present) and why. <see cref="RemainingContracts"/> is the
/// -20 answer's RemainingContractCertificateChains (OCPP 2.1 Get15118EVCertificateResponse remainingContracts), null for -2.
/// </summary>
public sealed record InstallationOutcome(byte[] Response, InstallationResult Result, string ResponseCode, string? Emaid, string? Pcid, string Detail,
    int? RemainingContracts = null)
{
    public bool IsOk => Result == InstallationResult.Ok;
}

public static class InstallationResults
{
    /// <summary>
    /// What an unexpected failure of our side means for the vehicle: a transient database fault
    /// (<see cref="System.Data.Common.DbException.IsTransient"/>: connection lost, server restarting, timeout) or a
    /// timeout is <see cref="InstallationResult.DatabaseUnavailable"/>, anything else <see cref="InstallationResult.InternalError"/>.
    /// </summary>
    public static InstallationResult ForFailure(Exception e)
    {
        for (Exception? x = e; x != null; x = x.InnerException)
            if (x is TimeoutException or System.Data.Common.DbException { IsTransient: true }) return InstallationResult.DatabaseUnavailable;
        return InstallationResult.InternalError;
    }

    /// <summary>Our side failed and the vehicle may try again (an UpdateRes carries RetryCounter 1).</summary>
    public static bool MayRetry(this InstallationResult r) => r is InstallationResult.InternalError or InstallationResult.DatabaseUnavailable;

    /// <summary>ISO 15118-2 responseCodeType of a result.</summary>
    public static string Iso2Code(this InstallationResult r) => r switch
    {
        InstallationResult.Ok => "OK",
        InstallationResult.SignatureInvalid => "FAILED_SignatureError",
        InstallationResult.UnknownVehicle or InstallationResult.NoContract or InstallationResult.NoMatchingRoot => "FAILED_NoCertificateAvailable",
        InstallationResult.ContractCanceled => "FAILED_ContractCanceled",
        InstallationResult.CertificateRevoked => "FAILED_CertificateRevoked",
        InstallationResult.CertificateExpired => "FAILED_CertificateExpired",
        InstallationResult.CertChainError => "FAILED_CertChainError",
        _ => "FAILED",
    };

    /// <summary>ISO 15118-20 responseCodeType of a result.</summary>
    public static string Iso20Code(this InstallationResult r) => r switch
    {
        InstallationResult.Ok => "OK",
        InstallationResult.SignatureInvalid => "FAILED_SignatureError",
        InstallationResult.UnknownVehicle or InstallationResult.NoContract or InstallationResult.ContractCanceled => "WARNING_NoContractMatchingPCIDFound",
        InstallationResult.NoMatchingRoot => "WARNING_NoCertificateAvailable",
        InstallationResult.CertificateRevoked => "WARNING_CertificateRevoked",
        InstallationResult.CertificateExpired => "WARNING_CertificateExpired",
        InstallationResult.CertChainError => "WARNING_CertificateValidationError",
        _ => "FAILED",
    };
}
