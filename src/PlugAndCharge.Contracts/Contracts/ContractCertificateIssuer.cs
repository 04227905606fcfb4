using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>A hub-issued contract certificate and its private scalar, in clear only for the response being built.</summary>
public sealed record IssuedContractCertificate(ContractCertificate Certificate, byte[] PrivateScalar);

/// <summary>
/// Issues contract certificates from our MO Sub-CA 2 (profile iso2/contract or iso20/contract) with a key pair generated
/// for the contract. The private scalar leaves this class only wrapped (<see cref="ContractKeyProtector"/>) for storage,
/// and in clear to the caller that encrypts it for the vehicle at once.
/// </summary>
public sealed class ContractCertificateIssuer(CertificateIssuer issuer, ContractKeyProtector protector, ContractOptions options)
{
    public async Task<IssuedContractCertificate> IssueAsync(Contract contract, string actor, CancellationToken ct = default)
    {
        if (!protector.IsConfigured)
            throw new ContractException(ContractError.KeyEncryptionKeyMissing, "Contract certificates cannot be issued without a key-encryption key (Contracts:KeyEncryptionKey).");
        var (curve, algorithm, profile, issuerId) = contract.Standard == IsoStandard.Iso15118_2
            ? (ECCurve.NamedCurves.nistP256, KeyAlgorithm.EcP256, "iso2/contract", options.Iso2ContractIssuerId)
            : (ECCurve.NamedCurves.nistP521, KeyAlgorithm.EcP521, "iso20/contract", options.Iso20ContractIssuerId);
        using var key = ECDsa.Create(curve);
        var parameters = key.ExportParameters(true);
        var scalar = parameters.D!;
        try
        {
            var subject = new X509Name(new[] { X509Name.CN, X509Name.O, X509Name.DC }, new[] { contract.Emaid, options.ContractOrganization, "MO" });
            var issued = await issuer.IssueAsync(new IssuanceRequest
            {
                ProfileId = profile, IssuerId = issuerId, PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
                Subject = subject, Validity = options.ContractCertificateValidity, Actor = actor,
            }, ct);
            var chain = issued.IssuerChain;
            var certificate = new ContractCertificate
            {
                IssuerId = issuerId, Serial = issued.Record.Serial, Der = issued.Certificate.GetEncoded(),
                // ContractSignatureCertChain carries Sub-CA 2 then Sub-CA 1, never the root.
                SubCaDers = chain.Take(chain.Count - 1).Select(c => c.GetEncoded()).ToList(),
                NotBefore = issued.Record.NotBefore, NotAfter = issued.Record.NotAfter, KeyAlgorithm = algorithm,
                WrappedPrivateKey = protector.Protect(scalar, contract.Id, contract.Emaid),
            };
            return new IssuedContractCertificate(certificate, scalar);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(scalar);
            throw;
        }
    }

    /// <summary>The clear scalar of a stored hub-issued certificate (caller zeroes it after use).</summary>
    public byte[] Unwrap(Contract contract) =>
        contract.Certificate?.WrappedPrivateKey is { } wrapped ? protector.Unprotect(wrapped, contract.Id, contract.Emaid)
        : throw new ContractException(ContractError.UnknownContract, $"Contract {contract.Emaid} has no stored key.");

    public static string SerialOf(Org.BouncyCastle.X509.X509Certificate c) => SerialNumbers.ToHex(c.SerialNumber);
}
