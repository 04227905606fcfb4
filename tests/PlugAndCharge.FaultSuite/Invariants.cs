using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;
using PlugAndCharge.Exi;

namespace PlugAndCharge.FaultSuite;

/// <summary>A check after a fault: its name, whether it held, and what was seen; any check that fails, fails its row.</summary>
public sealed record Check(string Name, bool Passed, string Detail);

/// <summary>
/// What must hold after every fault (issue 22): the audit chain verifies; every certificate a car or station was given
/// and every acknowledged renewal has its CA record and its issuance audit entry; no serial twice; each contract's
/// current certificate is its newest; webhook events reach the OEM at least once with a stable id.
/// </summary>
public sealed partial class Invariants(ClusterControl cluster, string pnc)
{
    private const string MsgBody = "urn:iso:15118:2:2013:MsgBody", MsgDataTypes = "urn:iso:15118:2:2013:MsgDataTypes";
    private static readonly QName InstallationRes = new(MsgBody, "CertificateInstallationRes"), ResponseCode = new(MsgBody, "ResponseCode"),
        ChainName = new(MsgBody, "ContractSignatureCertChain"), CertificateName = new(MsgDataTypes, "Certificate"), BodyName = new("urn:iso:15118:2:2013:MsgDef", "Body");

    /// <summary>CertificateInstallationRes answers given to cars (base64 EXI), from the CCP stream; the fleet writes its own to a file.</summary>
    public ConcurrentQueue<string> DeliveredByCcp { get; } = new();

    /// <summary>Serials (hex) the eMSP was told a renewal produced.</summary>
    public ConcurrentQueue<string> AcknowledgedRenewals { get; } = new();

    public async Task<IReadOnlyList<Check>> CheckAsync(string fleetDeliveredFile)
    {
        // What was acknowledged before the database is read (the load goes on meanwhile).
        var renewals = AcknowledgedRenewals.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var answers = DeliveredByCcp.ToList();
        if (File.Exists(fleetDeliveredFile)) answers.AddRange(File.ReadLines(fleetDeliveredFile).Where(l => l.Length > 0));
        var checks = new List<Check>();
        var (exit, output) = await cluster.PncAsync(pnc, "audit", "verify");
        checks.Add(new Check("pnc audit verify", exit == 0, output.Split('\n').LastOrDefault(l => l.Length > 0) ?? ""));

        await using var db = await OpenPrimaryAsync();
        var stored = new Dictionary<string, (string Issuer, string Serial)>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("select encode(sha256, 'hex'), issuer_id, serial from certificates where sha256 is not null", db))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) stored[r.GetString(0)] = (r.GetString(1), r.GetString(2));
        var audited = new HashSet<string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("select details from audit_log where action = 'certificate.issue'", db))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) if (Sha256Field().Match(r.GetString(0)) is { Success: true } m) audited.Add(m.Groups[1].Value);

        // Every distinct contract certificate delivered, by SHA-256 of its DER.
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        var responses = 0;
        var undecodable = 0;
        foreach (var b64 in answers)
        {
            responses++;
            try
            {
                var res = ExiSchema.Iso2.Decode(Convert.FromBase64String(b64)).Element(BodyName)!.Element(InstallationRes)!;
                if (!res.Element(ResponseCode)!.Text.StartsWith("OK", StringComparison.Ordinal)) continue;
                delivered.Add(Convert.ToHexStringLower(SHA256.HashData(res.Element(ChainName)!.Element(CertificateName)!.Value.AsBytes())));
            }
            catch (Exception) { undecodable++; }
        }
        var missing = delivered.Where(h => !stored.ContainsKey(h) || !audited.Contains(h)).ToList();
        checks.Add(new Check("delivered certificates recorded and audited", missing.Count == 0 && undecodable == 0,
            $"{responses} answers, {delivered.Count} distinct certificates, {missing.Count} without CA record or audit entry, {undecodable} undecodable"));

        var storedSerials = stored.Values.Select(v => v.Serial).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var history = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using (var cmd = new NpgsqlCommand("select serial from contract_certificate_history", db))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) history.Add(r.GetString(0));
        var lost = renewals.Where(s => !storedSerials.Contains(s) || !history.Contains(s)).ToList();
        checks.Add(new Check("acknowledged renewals kept", lost.Count == 0, $"{renewals.Count} acknowledged, {lost.Count} missing{(lost.Count > 0 ? ": " + string.Join(", ", lost.Take(3)) : "")}"));

        await using (var cmd = new NpgsqlCommand("select count(*) from (select issuer_id, serial from certificates group by 1, 2 having count(*) > 1) d", db))
        {
            var duplicates = (long)(await cmd.ExecuteScalarAsync())!;
            checks.Add(new Check("no serial twice", duplicates == 0, $"{stored.Count} certificates, {duplicates} serials twice"));
        }
        // The contract's current certificate (one row per contract by its key) is the newest it has had.
        await using (var cmd = new NpgsqlCommand("""
            select count(*) from contract_certificates c
            where c.serial <> (select h.serial from contract_certificate_history h where h.contract_id = c.contract_id order by h.recorded_at desc limit 1)
            """, db))
        {
            var stale = (long)(await cmd.ExecuteScalarAsync())!;
            checks.Add(new Check("one current certificate per contract", stale == 0, $"{stale} contracts whose current certificate is not their newest"));
        }
        return checks;
    }

    /// <summary>
    /// The primary, once it takes connections again: right after a restart or a promotion it may still answer "starting
    /// up" or refuse for a moment, which is the fault's recovery, not a broken invariant.
    /// </summary>
    private async Task<NpgsqlConnection> OpenPrimaryAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var db = new NpgsqlConnection(cluster.PrimaryConnectionString());
            try
            {
                await db.OpenAsync();
                return db;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await db.DisposeAsync();
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Waits until the outbox has delivered everything for the endpoint, then compares with what the receiver got.</summary>
    public async Task<Check> WebhooksAsync(Guid endpointId, WebhookReceiver receiver, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            await using var db = new NpgsqlConnection(cluster.PrimaryConnectionString());
            try { await db.OpenAsync(); }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline) { await Task.Delay(1000); continue; }
            await using var cmd = new NpgsqlCommand("select event_id, state from webhook_outbox where endpoint_id = @e", db);
            cmd.Parameters.AddWithValue("e", endpointId);
            var rows = new List<(Guid Event, string State)>();
            await using (var r = await cmd.ExecuteReaderAsync())
                while (await r.ReadAsync()) rows.Add((r.GetGuid(0), r.GetString(1)));
            var pending = rows.Count(x => x.State != "Delivered");
            if (pending > 0 && DateTime.UtcNow < deadline) { await Task.Delay(1000); continue; }
            var notReceived = rows.Count(x => !receiver.Received.ContainsKey(x.Event));
            var duplicates = receiver.Received.Values.Sum(n => n - 1);
            return new Check("webhooks at least once, stable event id", pending == 0 && notReceived == 0 && receiver.ChangedBodies == 0,
                $"{rows.Count} events, {pending} not delivered, {notReceived} never received, {duplicates} redeliveries, {receiver.ChangedBodies} redeliveries with another body");
        }
    }

    [GeneratedRegex("\"sha256\":\"([0-9a-f]{64})\"")]
    private static partial Regex Sha256Field();
}
