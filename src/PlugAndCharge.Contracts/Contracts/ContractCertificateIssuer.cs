using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Pki.Crypto;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>
/// A hub-issued contract certificate and its private key, in clear only for the response being built: the EC scalar D
/// (P-256, P-521) or the 57-byte RFC 8032 Ed448 private key. <see cref="Issuance"/> is the CA's record of it, stored with
/// the contract in one transaction (<see cref="Stores.IContractStore.RecordCertificateAsync"/>).
/// </summary>
public sealed record IssuedContractCertificate(ContractCertificate Certificate, byte[] PrivateKey, PendingIssuance Issuance);

/// <summary>
/// Issues contract certificates from our MO Sub-CA 2 (profile iso2/contract or iso20/contract) with a key pair generated
/// for the contract. The private key leaves this class only wrapped (<see cref="ContractKeyProtector"/>) for storage,
/// and in clear to the caller that encrypts it for the vehicle at once.
/// </summary>
public sealed class ContractCertificateIssuer(CertificateIssuer issuer, ContractKeyProtector protector, ContractOptions options)
{
    /// <summary>
    /// The contract key type a vehicle can receive: P-256 for ISO 15118-2; for -20 the family of the vehicle's
    /// provisioning key, P-521 (delivered with ECDHCurve SECP521) or Ed448 (delivered with X448).
    /// </summary>
    public static KeyAlgorithm ContractKeyFor(IsoStandard standard, KeyAlgorithm? vehicleKey) =>
        standard == IsoStandard.Iso15118_2 ? KeyAlgorithm.EcP256
        : vehicleKey is KeyAlgorithm.Ed448 or KeyAlgorithm.X448 ? KeyAlgorithm.Ed448 : KeyAlgorithm.EcP521;

    public async Task<IssuedContractCertificate> IssueAsync(Contract contract, string actor, KeyAlgorithm algorithm, CancellationToken ct = default)
    {
        if (!protector.IsConfigured)
            throw new ContractException(ContractError.KeyEncryptionKeyMissing, "Contract certificates cannot be issued without a key-encryption key (Contracts:KeyEncryptionKey).");
        var (profile, issuerId) = contract.Standard == IsoStandard.Iso15118_2
            ? ("iso2/contract", options.Iso2ContractIssuerId) : ("iso20/contract", options.Iso20ContractIssuerId);
        var (publicKey, privateKey) = NewKeyPair(algorithm);
        try
        {
            var subject = new X509Name(new[] { X509Name.CN, X509Name.O, X509Name.DC }, new[] { contract.Emaid, options.ContractOrganization, "MO" });
            var pending = await issuer.SignAsync(new IssuanceRequest
            {
                ProfileId = profile, IssuerId = issuerId, PublicKey = publicKey,
                Subject = subject, Validity = options.ContractCertificateValidity, Actor = actor,
            }, ct);
            var issued = pending.Issued;
            var chain = issued.IssuerChain;
            var certificate = new ContractCertificate
            {
                IssuerId = issuerId, Serial = issued.Record.Serial, Der = issued.Certificate.GetEncoded(),
                // ContractSignatureCertChain carries Sub-CA 2 then Sub-CA 1, never the root.
                SubCaDers = chain.Take(chain.Count - 1).Select(c => c.GetEncoded()).ToList(),
                NotBefore = issued.Record.NotBefore, NotAfter = issued.Record.NotAfter, KeyAlgorithm = algorithm,
                WrappedPrivateKey = protector.Protect(privateKey, contract.Id, contract.Emaid),
            };
            return new IssuedContractCertificate(certificate, privateKey, pending);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(privateKey);
            throw;
        }
    }

    private static (SubjectPublicKeyInfo Public, byte[] Private) NewKeyPair(KeyAlgorithm algorithm)
    {
        if (algorithm == KeyAlgorithm.Ed448)
        {
            // .NET has no Ed448; BouncyCastle generates it (RFC 8032: the private key is 57 random bytes).
            var ed = new Ed448PrivateKeyParameters(new SecureRandom());
            return (SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ed.GeneratePublicKey()), ed.GetEncoded());
        }
        if (algorithm == KeyAlgorithm.EcP256)
        {
            // Every ISO 15118-2 installation makes one: the fast path (Pki.Crypto.P256).
            var (scalar, point) = P256.GenerateKeyPair();
            return (P256.SubjectPublicKeyInfo(point), scalar);
        }
        if (algorithm != KeyAlgorithm.EcP521) throw new ContractException(ContractError.ProfileViolation, $"A contract key cannot be {algorithm}.");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        return (SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()), key.ExportParameters(true).D!);
    }

    /// <summary>Records a certificate that could not be stored with its contract as Failed (audited).</summary>
    public Task AbandonAsync(IssuedContractCertificate issued, string actor, string reason) =>
        issuer.AbandonAsync(issued.Issuance, actor, reason, CancellationToken.None);

    /// <summary>The clear private key of a stored hub-issued certificate (caller zeroes it after use).</summary>
    public byte[] Unwrap(Contract contract) =>
        contract.Certificate?.WrappedPrivateKey is { } wrapped ? protector.Unprotect(wrapped, contract.Id, contract.Emaid)
        : throw new ContractException(ContractError.UnknownContract, $"Contract {contract.Emaid} has no stored key.");
}
