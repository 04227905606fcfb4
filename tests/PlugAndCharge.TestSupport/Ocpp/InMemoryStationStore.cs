using System.Collections.Concurrent;

using PlugAndCharge.Ocpp.Stations;

namespace PlugAndCharge.TestSupport.Ocpp;

/// <summary>Stations in memory: tests, benchmarks, demos.</summary>
public sealed class InMemoryStationStore : IStationStore
{
    private readonly ConcurrentDictionary<string, StationRecord> _stations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string StationId, string Sha256), StationClientCertificate> _certificates = new();

    public Task<StationRecord?> FindAsync(string stationId, CancellationToken ct = default) => Task.FromResult(_stations.GetValueOrDefault(stationId));

    public Task SaveAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        _stations[station.StationId] = station;
        return Task.CompletedTask;
    }

    public Task<bool> AddAsync(StationRecord station, CancellationToken ct = default)
    {
        StationIds.Validate(station.StationId);
        return Task.FromResult(_stations.TryAdd(station.StationId, station));
    }

    public Task<bool> DeleteAsync(string stationId, CancellationToken ct = default)
    {
        var removed = _stations.TryRemove(stationId, out _);
        foreach (var key in _certificates.Keys.Where(k => k.StationId == stationId)) _certificates.TryRemove(key, out _);
        return Task.FromResult(removed);
    }

    public Task<IReadOnlyList<StationRecord>> ListAsync(string? cpoId = null, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<StationRecord>>(_stations.Values.Where(s => cpoId == null || s.CpoId == cpoId).OrderBy(s => s.StationId, StringComparer.Ordinal).ToList());

    public Task<StationRecord?> DisableAsync(string stationId, DateTimeOffset at, string? reason, CancellationToken ct = default) =>
        Task.FromResult(Update(stationId, s => s with { DisabledAt = s.DisabledAt ?? at, DisabledReason = reason }));

    public Task<StationRecord?> EnableAsync(string stationId, CancellationToken ct = default) =>
        Task.FromResult(Update(stationId, s => s with { DisabledAt = null, DisabledReason = null }));

    private StationRecord? Update(string stationId, Func<StationRecord, StationRecord> change)
    {
        while (_stations.TryGetValue(stationId, out var s))
        {
            var updated = change(s);
            if (_stations.TryUpdate(stationId, updated, s)) return updated;
        }
        return null;
    }

    public Task<StationRecord?> RecordBootAsync(string stationId, StationBoot boot, CancellationToken ct = default)
    {
        while (_stations.TryGetValue(stationId, out var s))
        {
            var updated = s with { Vendor = boot.Vendor, Model = boot.Model, ReportedSerialNumber = boot.SerialNumber ?? s.ReportedSerialNumber, FirmwareVersion = boot.FirmwareVersion, LastBootAt = boot.At };
            if (_stations.TryUpdate(stationId, updated, s)) return Task.FromResult<StationRecord?>(updated);
        }
        return Task.FromResult<StationRecord?>(null);
    }

    public Task<bool> ReplacePasswordHashAsync(string stationId, string expected, string replacement, CancellationToken ct = default) =>
        Task.FromResult(UpdateWhere(stationId, s => s.PasswordHash == expected, s => s with { PasswordHash = replacement }));

    public Task<bool> ForgetPreviousPasswordAsync(string stationId, string current, CancellationToken ct = default) =>
        Task.FromResult(UpdateWhere(stationId, s => s.PasswordHash == current && s.PreviousPasswordHash != null,
            s => s with { PreviousPasswordHash = null, PreviousPasswordUntil = null }));

    public Task<bool> RotatePasswordAsync(string stationId, string replacement, DateTimeOffset previousUntil, CancellationToken ct = default) =>
        Task.FromResult(UpdateWhere(stationId, s => s.SecurityProfile == SecurityProfile.TlsWithBasicAuth, s => s with
        {
            PreviousPasswordHash = s.PasswordHash, PreviousPasswordUntil = previousUntil, PasswordHash = replacement, PasswordChosenBy = StationPasswordOrigin.Service,
        }));

    /// <summary>Changes the station when <paramref name="condition"/> holds of it as it is at that moment (a conditional UPDATE).</summary>
    private bool UpdateWhere(string stationId, Func<StationRecord, bool> condition, Func<StationRecord, StationRecord> change)
    {
        while (_stations.TryGetValue(stationId, out var s) && condition(s))
            if (_stations.TryUpdate(stationId, change(s), s)) return true;
        return false;
    }

    public Task<bool> AddClientCertificateAsync(StationClientCertificate certificate, CancellationToken ct = default)
    {
        if (!_stations.ContainsKey(certificate.StationId)) return Task.FromResult(false);
        _certificates[(certificate.StationId, certificate.Sha256)] = certificate;
        return Task.FromResult(true);
    }

    public Task<StationClientCertificate?> FindClientCertificateAsync(string stationId, string sha256, CancellationToken ct = default) =>
        Task.FromResult(_certificates.GetValueOrDefault((stationId, sha256)));
}
