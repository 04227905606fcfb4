using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki.Audit;

/// <summary>
/// The hash chain of the audit log: each entry's hash covers the previous entry's hash and the entry's own fields, so
/// deleting, reordering or editing any entry breaks every hash after it.
/// </summary>
public static class AuditChain
{
    public static readonly byte[] Genesis = new byte[32];

    public static string SerializeDetails(IReadOnlyDictionary<string, string>? details)
    {
        if (details == null || details.Count == 0) return "{}";
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in details) sorted[kv.Key] = kv.Value;
        return JsonSerializer.Serialize(sorted);
    }

    /// <summary>Timestamps are hashed at microsecond precision, the precision PostgreSQL stores.</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);

    public static byte[] ComputeHash(byte[] previousHash, long sequence, DateTimeOffset at, string actor, string action, string subject, string details)
    {
        var micros = (Normalize(at).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        var text = string.Join('\u001f', sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), micros.ToString(System.Globalization.CultureInfo.InvariantCulture), actor, action, subject, details);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(previousHash);
        h.AppendData(Encoding.UTF8.GetBytes(text));
        return h.GetHashAndReset();
    }

    public static async Task<AuditVerification> VerifyAsync(IAsyncEnumerable<AuditEntry> entries, CancellationToken ct = default)
    {
        var prev = Genesis;
        long expectedSeq = 1, count = 0;
        await foreach (var e in entries.WithCancellation(ct))
        {
            if (e.Sequence != expectedSeq)
                return new AuditVerification(false, count, e.Sequence, $"Entry {expectedSeq} is missing (next is {e.Sequence}).");
            if (!e.PreviousHash.AsSpan().SequenceEqual(prev))
                return new AuditVerification(false, count, e.Sequence, $"Entry {e.Sequence} does not link to the entry before it.");
            var h = ComputeHash(prev, e.Sequence, e.At, e.Actor, e.Action, e.Subject, e.Details);
            if (!h.AsSpan().SequenceEqual(e.Hash))
                return new AuditVerification(false, count, e.Sequence, $"Entry {e.Sequence} was altered (hash mismatch).");
            prev = e.Hash;
            expectedSeq++;
            count++;
        }
        return new AuditVerification(true, count, null, $"{count} entries, chain intact.");
    }
}
