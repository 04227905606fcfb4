using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using PlugAndCharge.Pki.Crypto;

namespace PlugAndCharge.Benchmarks.Crypto;

/// <summary>
/// The P-256 work of one ISO 15118-2 installation, on libcrypto directly (Native = true) and through
/// System.Security.Cryptography (false): a contract key pair, and the vehicle's key imported from its certificate, its
/// request signature verified and an ephemeral ECDH with it:
/// `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*P256*' --job short`.
/// </summary>
[MemoryDiagnoser]
public class P256Benchmarks
{
    private byte[] _point = null!;
    private byte[] _digest = null!;
    private byte[] _signature = null!;

    public static IEnumerable<bool> Implementations => P256.Native ? [true, false] : [false];

    [ParamsSource(nameof(Implementations))]
    public bool Native { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var vehicle = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = vehicle.ExportParameters(false).Q;
        _point = [0x04, .. q.X!, .. q.Y!];
        _digest = SHA256.HashData("SignedInfo of a CertificateInstallationReq"u8);
        _signature = vehicle.SignHash(_digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    [Benchmark]
    public byte[] ContractKeyPair()
    {
        var (scalar, point) = P256.GenerateKeyPair(Native);
        CryptographicOperations.ZeroMemory(scalar);
        return point;
    }

    [Benchmark]
    public byte[] VehicleKeyVerifyAndAgree()
    {
        using var key = P256.ImportPublicKey(_point, Native);
        if (!key.VerifySha256(_digest, _signature)) throw new InvalidOperationException("The signature does not verify.");
        var (z, ephemeral) = key.AgreeWithEphemeral();
        CryptographicOperations.ZeroMemory(z);
        return ephemeral;
    }
}
