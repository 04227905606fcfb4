using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Crypto;

public class ContractKeyEncryptionTests
{
    private static readonly JsonElement Kat = JsonDocument.Parse(File.ReadAllText(TestPaths.Vector("iso15118_2_contract_key_encryption/" +
        Path.GetFileName(Directory.GetFiles(TestPaths.Vector("iso15118_2_contract_key_encryption"), "*.json")[0])))).RootElement;

    private static byte[] Hex(string name) => Convert.FromHexString(Kat.GetProperty(name).GetString()!);

    private static ECDiffieHellman OemProvisioningKey()
    {
        return ECDiffieHellman.Create(EverestKeys.Read(TestPaths.Vector("everest_aux_pki/client/oem/OEM_LEAF.key")));
    }

    private static ECDiffieHellman FromScalar(byte[] d)
    {
        // The vector gives only the scalar: let OpenSSL compute the point.
        var k = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
        return k;
    }

    [Fact]
    public void Known_answer_test_of_the_ISO_15118_2_contract_key_encryption_passes_step_by_step()
    {
        using var oem = OemProvisioningKey();
        using var ephemeral = FromScalar(Hex("ephemeral_private_scalar_hex"));

        var z = ephemeral.DeriveRawSecretAgreement(oem.PublicKey);
        Assert.Equal(Hex("shared_secret_Z_hex"), z);
        Assert.Equal(Hex("kdf_otherinfo_hex"), ContractKeyDerivation.OtherInfo.ToArray());
        Assert.Equal(Hex("session_key_hex"), ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA256, 16));

        var result = ContractKeyEncryption.EncryptIso2(Hex("contract_private_key_scalar_hex"), oem.PublicKey, ephemeral, Hex("iv_hex"));
        Assert.Equal(Hex("DHpublickey_hex"), result.DhPublicKey);
        Assert.Equal(Hex("ContractSignatureEncryptedPrivateKey_hex"), result.EncryptedPrivateKey);
    }

    [Fact]
    public void The_vehicle_decrypts_the_vector_and_the_key_belongs_to_the_contract_certificate()
    {
        using var oem = OemProvisioningKey();
        var scalar = ContractKeyEncryption.DecryptIso2(Hex("ContractSignatureEncryptedPrivateKey_hex"), Hex("DHpublickey_hex"), oem);
        Assert.Equal(Hex("contract_private_key_scalar_hex"), scalar);

        using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(TestPaths.Vector("everest_aux_pki/client/mo/MO_LEAF.pem")));
        using var pub = cert.GetECDsaPublicKey()!;
        using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar, Q = pub.ExportParameters(false).Q });
        byte[] data = [42];
        Assert.True(pub.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Fresh_encryptions_use_a_new_ephemeral_key_and_IV_and_round_trip()
    {
        using var vehicle = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var scalar = RandomNumberGenerator.GetBytes(32);
        var a = ContractKeyEncryption.EncryptIso2(scalar, vehicle.PublicKey);
        var b = ContractKeyEncryption.EncryptIso2(scalar, vehicle.PublicKey);
        Assert.NotEqual(a.DhPublicKey, b.DhPublicKey);
        Assert.NotEqual(a.EncryptedPrivateKey[..16], b.EncryptedPrivateKey[..16]);
        Assert.Equal(48, a.EncryptedPrivateKey.Length);
        Assert.Equal(65, a.DhPublicKey.Length);
        Assert.Equal(scalar, ContractKeyEncryption.DecryptIso2(a.EncryptedPrivateKey, a.DhPublicKey, vehicle));
    }

    [Fact]
    public void Iso20_SECP521_with_AES_256_GCM_binds_the_PCID_and_SKI()
    {
        using var vehicle = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP521);
        var scalar = RandomNumberGenerator.GetBytes(66);
        scalar[0] &= 0x01;
        var ski = RandomNumberGenerator.GetBytes(20);
        var e = ContractKeyEncryption.EncryptIso20Secp521(scalar, vehicle.PublicKey, "pnc00000000000001", ski);
        Assert.Equal(94, e.EncryptedPrivateKey.Length);
        Assert.Equal(133, e.DhPublicKey.Length);
        Assert.Equal("PNC00000000000001" + Convert.ToHexString(ski), System.Text.Encoding.ASCII.GetString(ContractKeyEncryption.AdditionalData("pnc00000000000001", ski)));
        Assert.Equal(scalar, ContractKeyEncryption.DecryptIso20Secp521(e.EncryptedPrivateKey, e.DhPublicKey, vehicle, "PNC00000000000001", ski));
        // Another vehicle's PCID (additional data) makes the tag fail.
        Assert.ThrowsAny<CryptographicException>(() => ContractKeyEncryption.DecryptIso20Secp521(e.EncryptedPrivateKey, e.DhPublicKey, vehicle, "PNC00000000000002", ski));
    }

    [Fact]
    public void Wrapped_contract_keys_are_bound_to_their_contract()
    {
        var protector = new ContractKeyProtector(RandomNumberGenerator.GetBytes(32));
        var id = Guid.NewGuid();
        var blob = protector.Protect([1, 2, 3], id, "DE8AAC12345678X");
        Assert.Equal([1, 2, 3], protector.Unprotect(blob, id, "DE8AAC12345678X"));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, Guid.NewGuid(), "DE8AAC12345678X"));
        Assert.Throws<ContractException>(() => new ContractKeyProtector(null).Protect([1], id, "x"));
    }
}
