namespace PlugAndCharge.Pki.Ocsp;

/// <summary>Compares CertID encodings by content, and lets a request's bytes be looked up without copying them.</summary>
internal sealed class CertIdKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly CertIdKeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x == y || (x != null && y != null && x.AsSpan().SequenceEqual(y));
    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var h = new HashCode();
        h.AddBytes(alternate);
        return h.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
