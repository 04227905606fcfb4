using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>An early exit of an installation: the result and what to say about it.</summary>
internal sealed class InstallationRefusal(InstallationResult result, string detail, string? emaid = null) : Exception(detail)
{
    public InstallationResult Result { get; } = result;
    public string? Emaid { get; } = emaid;
}

/// <summary>Steps shared by the -2 and -20 installation paths.</summary>
internal static class InstallationSupport
{
    public static IReadOnlyList<(string IssuerName, BigInteger Serial)> RootIds(ExiElement? list, QName rootId)
    {
        var ids = new List<(string, BigInteger)>();
        if (list == null) return ids;
        foreach (var e in list.Elements())
        {
            if (e.Name != rootId) continue;
            var name = e.Element(new QName(ExiSignature.DsNamespace, "X509IssuerName"))?.Text;
            var serial = e.Element(new QName(ExiSignature.DsNamespace, "X509SerialNumber"));
            if (name == null || serial == null) continue;
            try { ids.Add((name, serial.Value.AsBigInteger())); }
            catch (FormatException) { }
        }
        return ids;
    }

    /// <summary>Verifies the header signature and that it covers the element with <paramref name="signedId"/>.</summary>
    public static void VerifyRequestSignature(ExiSchema schema, ExiElement message, string? signedId, PresentedKey signer)
    {
        if (signedId == null) throw new InstallationRefusal(InstallationResult.SignatureInvalid, "The signed element carries no Id.");
        IExiSignatureAlgorithm verifier;
        try { verifier = signer.Verifier(); }
        catch (Exception e) when (e is CryptographicException or ArgumentException or ContractException)
        {
            throw new InstallationRefusal(InstallationResult.Unsupported, "The signer's key is not an ECDSA P-256/P-521 or Ed448 key: " + e.Message);
        }
        var check = ExiSignature.Verify(schema, message, verifier);
        if (!check.IsValid) throw new InstallationRefusal(InstallationResult.SignatureInvalid, "The request signature does not verify: " + check);
        if (!check.References.Any(r => r.Uri == "#" + signedId))
            throw new InstallationRefusal(InstallationResult.SignatureInvalid, $"The signature does not cover the request element (#{signedId}).");
    }

    /// <summary>
    /// The pool's OEM sub-CA that signed <paramref name="presented"/>, when the vehicle presents the very certificate the
    /// pool holds: the pool validated that chain in full when the OEM uploaded it, so the leaf's signature needs no second
    /// check (<see cref="ChainValidationRequest.LeafVerifiedBy"/>). Null for any other certificate, which is verified.
    /// </summary>
    /// <param name="poolSubCas">The vehicle's <see cref="Pools.ProvisioningCertificate.SubCaDers"/>, parsed, nearest first.</param>
    public static X509Certificate? PoolVerifiedIssuer(byte[] presented, Pools.ProvisioningCertificate vehicle, IReadOnlyList<X509Certificate> poolSubCas) =>
        poolSubCas.Count > 0 && presented.AsSpan().SequenceEqual(vehicle.CertificateDer) ? poolSubCas[0] : null;

    /// <summary>The DER bytes of a certificate element of a request.</summary>
    public static byte[] CertificateBytes(ExiElement? element, string what)
    {
        try { return element?.Value.AsBytes() ?? throw new InstallationRefusal(InstallationResult.Malformed, $"No {what}."); }
        catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new InstallationRefusal(InstallationResult.Malformed, $"{what} is not binary."); }
    }

    public static InstallationResult FromChainFailure(ChainFailureReason reason) => reason switch
    {
        ChainFailureReason.Expired or ChainFailureReason.NotYetValid => InstallationResult.CertificateExpired,
        ChainFailureReason.Revoked => InstallationResult.CertificateRevoked,
        _ => InstallationResult.CertChainError,
    };

    public static ECDiffieHellmanPublicKey KeyAgreementKey(PresentedKey key) => AgreementKey(key.Agreement);

    /// <summary>The P-256 ECDH peer of an ISO 15118-2 response.</summary>
    public static Pki.Crypto.P256PublicKey Iso2AgreementKey(PresentedKey key) => AgreementKey(key.P256);

    private static T AgreementKey<T>(Func<T> key)
    {
        try { return key(); }
        catch (CryptographicException e) { throw new InstallationRefusal(InstallationResult.Unsupported, "The vehicle's key cannot do ECDH here: " + e.Message); }
    }

    /// <summary>
    /// A certificate from a request: a sub-CA through <paramref name="cache"/> (they recur), the request's own certificate
    /// with none (see <see cref="PresentedKey"/>).
    /// </summary>
    public static X509Certificate ReadCertificate(ExiElement? element, string what, Pools.ParsedCertificates? cache) =>
        ReadCertificate(CertificateBytes(element, what), what, cache);

    public static X509Certificate ReadCertificate(byte[] der, string what, Pools.ParsedCertificates? cache)
    {
        try { return cache?.Get(der, what) ?? Pools.CertificateFacts.Read(der, what); }
        catch (ContractException e) { throw new InstallationRefusal(InstallationResult.CertChainError, e.Message); }
    }

    public static byte[] SessionId(ExiElement? header, QName name)
    {
        try { return header?.Element(name)?.Value.AsBytes() is { Length: 8 } s ? s : new byte[8]; }
        catch (Exception e) when (e is InvalidOperationException or FormatException) { return new byte[8]; }
    }
}
