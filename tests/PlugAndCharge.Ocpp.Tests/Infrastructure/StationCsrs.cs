using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>PKCS#10 requests as a station makes them for SignCertificate.</summary>
public static class StationCsrs
{
    public static string Create(string commonName, string organization, string? domainComponent = null, bool rsa = false)
    {
        if (rsa)
        {
            using var rsaKey = RSA.Create(2048);
            return new CertificateRequest(Name(commonName, organization, domainComponent), rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Create(commonName, organization, key, domainComponent);
    }

    /// <summary>A request for <paramref name="key"/>, which the caller keeps (to use the certificate afterwards).</summary>
    public static string Create(string commonName, string organization, ECDsa key, string? domainComponent = null) =>
        new CertificateRequest(Name(commonName, organization, domainComponent), key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

    private static X500DistinguishedName Name(string commonName, string organization, string? domainComponent)
    {
        var name = new X500DistinguishedNameBuilder();
        if (domainComponent != null) name.AddDomainComponent(domainComponent);
        name.AddOrganizationName(organization);
        name.AddCommonName(commonName);
        return name.Build();
    }
}
