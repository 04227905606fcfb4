namespace PlugAndCharge.Exi;

/// <summary>
/// Out-of-band EXI options (the ISO 15118 header carries none: first byte 0x80). Defaults are what ISO 15118
/// peers use, as the reference vectors prove: schema-informed, bit-packed, strict = false (so first-level event
/// codes reserve an escape for the undeclared productions of EXI 1.0 §8.5.4.4.1), no fidelity options, and no
/// value string table hits (every string value is a literal, as with valuePartitionCapacity = 0).
/// </summary>
public sealed record ExiOptions
{
    /// <summary>The options ISO 15118-2/-20 and DIN 70121 codecs use.</summary>
    public static ExiOptions Iso15118 { get; } = new();

    /// <summary>EXI "strict": no undeclared productions, so tighter event codes. Not what ISO 15118 peers send.</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// Use the value partitions of the string table (EXI default valuePartitionCapacity = unbounded). False
    /// (valuePartitionCapacity = 0) writes every value as a literal and rejects value hits when decoding.
    /// </summary>
    public bool ValuePartitions { get; init; }

    /// <summary>Maximum element nesting depth accepted when decoding (bounded stack for hostile input).</summary>
    public int MaxDepth { get; init; } = 100;
}
