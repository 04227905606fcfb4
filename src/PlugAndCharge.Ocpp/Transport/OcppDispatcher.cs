using System.Text.Json;
using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>Answers one CALL: returns the CALLRESULT payload or throws <see cref="OcppCallErrorException"/>.</summary>
public delegate ValueTask<object> OcppCallHandler(OcppCallContext context, JsonElement payload, CancellationToken ct);

/// <summary>What a handler knows about the call it answers.</summary>
public sealed class OcppCallContext(StationSession session, string action, bool viaDataTransfer)
{
    private Func<CancellationToken, Task>? _afterResponse;

    public StationSession Session { get; } = session;
    public string Action { get; } = action;
    public string StationId => Session.StationId;
    public StationRecord Station => Session.Station;
    public OcppVersion Version => Session.Version;
    /// <summary>True for an OCPP 1.6 Plug &amp; Charge message that arrived inside DataTransfer (org.openchargealliance.iso15118pnc).</summary>
    public bool ViaDataTransfer { get; } = viaDataTransfer;

    /// <summary>
    /// Work that must start only once the CALLRESULT is on the wire, e.g. CertificateSigned after an accepted
    /// SignCertificate (OCPP 2.0.1 A02.FR.06: the CSMS sends the certificate after responding).
    /// </summary>
    public void AfterResponse(Func<CancellationToken, Task> work) => _afterResponse += work;

    internal Func<CancellationToken, Task>? TakeAfterResponse() => Interlocked.Exchange(ref _afterResponse, null);
}

/// <summary>A group of handlers registered together (one message family).</summary>
public interface IOcppHandlerModule
{
    void Register(OcppDispatcher dispatcher);
}

/// <summary>Handlers by version and action.</summary>
public sealed class OcppDispatcher
{
    private readonly Dictionary<(OcppVersion, string), OcppCallHandler> _handlers = [];

    public OcppDispatcher(IEnumerable<IOcppHandlerModule> modules)
    {
        foreach (var m in modules) m.Register(this);
    }

    public void Register(string action, OcppCallHandler handler, params OcppVersion[] versions)
    {
        foreach (var v in versions) _handlers[(v, action)] = handler;
    }

    public bool TryGet(OcppVersion version, string action, out OcppCallHandler handler) => _handlers.TryGetValue((version, action), out handler!);
}
