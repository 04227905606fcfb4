namespace PlugAndCharge.Pki;

/// <summary>Settings of the CA (section "Pki" of the configuration).</summary>
public sealed class PkiOptions
{
    /// <summary>Base URL under which OCSP, CRLs and CA certificates are published; goes into AIA and CRL DP.</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";
    /// <summary>How far notBefore is set back to tolerate clock skew between us and the verifier.</summary>
    public TimeSpan Backdate { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>thisUpdate to nextUpdate of a CRL.</summary>
    public TimeSpan CrlValidity { get; set; } = TimeSpan.FromDays(7);

    public string OcspUrl(string caId) => $"{PublicBaseUrl.TrimEnd('/')}/ocsp/{caId}";
    public string CaIssuersUrl(string caId) => $"{PublicBaseUrl.TrimEnd('/')}/ca/{caId}.der";
    public string CrlUrl(string caId) => $"{PublicBaseUrl.TrimEnd('/')}/crl/{caId}.crl";
}
