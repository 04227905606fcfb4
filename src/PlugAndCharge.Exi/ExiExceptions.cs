namespace PlugAndCharge.Exi;

/// <summary>Bad EXI input: where (bit offset into the stream) and why. The only exception decoding lets out.</summary>
public sealed class ExiDecodeException : Exception
{
    public ExiDecodeException(long bitPosition, string reason)
        : base($"EXI decode error at bit {bitPosition} (byte {bitPosition / 8}): {reason}")
    {
        BitPosition = bitPosition;
        Reason = reason;
    }

    public ExiDecodeException(long bitPosition, string reason, Exception inner)
        : base($"EXI decode error at bit {bitPosition} (byte {bitPosition / 8}): {reason}", inner)
    {
        BitPosition = bitPosition;
        Reason = reason;
    }

    /// <summary>Bit offset from the start of the stream (header included) where the error was detected.</summary>
    public long BitPosition { get; }

    /// <summary>Byte offset (BitPosition / 8).</summary>
    public long BytePosition => BitPosition / 8;

    public string Reason { get; }
}

/// <summary>A model (or XML text) that the schema grammar cannot represent: the path of the offending node and why.</summary>
public sealed class ExiEncodeException : Exception
{
    public ExiEncodeException(string path, string reason)
        : base(string.IsNullOrEmpty(path) ? reason : $"{path}: {reason}")
    {
        Path = path;
        Reason = reason;
    }

    public ExiEncodeException(string path, string reason, Exception inner)
        : base(string.IsNullOrEmpty(path) ? reason : $"{path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    public string Path { get; }
    public string Reason { get; }
}
