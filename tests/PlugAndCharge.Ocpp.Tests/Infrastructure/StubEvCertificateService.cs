using System.Collections.Concurrent;
using PlugAndCharge.Ocpp.EvCertificates;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>
/// Stands in for contract provisioning until its installation service lands: answers with an EXI-sized opaque payload
/// (the length the request asks for through its first byte pattern) and records what it was asked.
/// </summary>
public sealed class StubEvCertificateService : IEvCertificateService
{
    public ConcurrentQueue<EvCertificateRequest> Requests { get; } = new();
    /// <summary>Length in bytes of the base64-decoded response; 4400 bytes is ~5900 base64 characters, as real responses.</summary>
    public int ResponseBytes { get; set; } = 4400;
    public bool Fail { get; set; }
    public TimeSpan Delay { get; set; }

    public async Task<EvCertificateResult> ProcessAsync(EvCertificateRequest request, CancellationToken ct = default)
    {
        Requests.Enqueue(request);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, ct);
        var bytes = new byte[Fail ? 64 : ResponseBytes];
        bytes[0] = 0x80;
        for (var i = 1; i < bytes.Length; i++) bytes[i] = (byte)(i * 31);
        return new EvCertificateResult(!Fail, Convert.ToBase64String(bytes), Fail ? "NoContract" : null, Fail ? null : 0);
    }
}
