using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Benchmarks.Ocpp;

/// <summary>
/// What one security profile 2 login costs in password verification (issue 26): the PBKDF2 record of an
/// operator-chosen (or not yet upgraded) password at the default 100,000 iterations, against the keyed HMAC-SHA-256
/// record of a service-generated one. Multiply by 85,000 for a fleet reconnecting after a restart:
/// `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*StationPassword*'`.
/// </summary>
[MemoryDiagnoser]
public class StationPasswordBenchmarks
{
    private const string StationId = "CS-BENCH-0001";
    private byte[] _password = null!;
    private string _pbkdf2 = null!;
    private string _keyed = null!;
    private StationPasswordKey _key = null!;

    [GlobalSetup]
    public void Setup()
    {
        var password = StationPasswords.Generate();
        _password = Encoding.UTF8.GetBytes(password);
        _pbkdf2 = StationPassword.Hash(password);
        _key = new StationPasswordKey(RandomNumberGenerator.GetBytes(32));
        _keyed = _key.Hash(StationId, _password);
    }

    [Benchmark(Baseline = true, Description = "PBKDF2-SHA256, 100,000 iterations")]
    public bool Pbkdf2() => StationPassword.Verify(_password, _pbkdf2);

    [Benchmark(Description = "HMAC-SHA-256 under the station key")]
    public bool Keyed() => _key.Verify(StationId, _password, _keyed);
}
