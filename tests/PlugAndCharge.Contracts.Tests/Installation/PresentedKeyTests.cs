using System.Security.Cryptography;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Installation;

public class PresentedKeyTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    [Fact]
    public async Task One_import_serves_the_signature_check_and_the_key_agreement_of_a_request()
    {
        using var car = await fx.World.NewVehicleAsync();
        using var key = new PresentedKey(CertificateFacts.Read(car.ProvisioningCertificate, "provisioning"));
        var data = RandomNumberGenerator.GetBytes(64);
        var signature = car.ProvisioningKey.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.True(key.Verifier().Verify(data, signature));
        Assert.False(key.Verifier().Verify(RandomNumberGenerator.GetBytes(64), signature));

        // The shared key agrees the same secret as the vehicle's own private key does with ours.
        using var ours = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var vehicle = ECDiffieHellman.Create();
        vehicle.ImportParameters(car.ProvisioningKey.ExportParameters(true));
        Assert.Equal(vehicle.DeriveRawSecretAgreement(ours.PublicKey), ours.DeriveRawSecretAgreement(key.Agreement()));
        Assert.Same(key.Agreement(), key.Agreement());
    }

    [Fact]
    public async Task An_Ed448_key_verifies_but_refuses_ECDH_as_a_CryptographicException()
    {
        using var car = await fx.World.NewVehicleAsync(IsoStandard.Iso15118_20, ed448: true);
        using var key = new PresentedKey(CertificateFacts.Read(car.ProvisioningCertificate, "provisioning"));
        Assert.Equal(Exi.ExiSignatureMethods.Ed448, key.Verifier().SignatureMethod);
        Assert.ThrowsAny<CryptographicException>(() => key.Agreement());
    }
}
