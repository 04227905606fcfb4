using System.Numerics;
using System.Runtime.CompilerServices;

namespace PlugAndCharge.Exi.IO;

/// <summary>Writes the bit-packed EXI stream, most significant bit first, into a growing buffer.</summary>
internal sealed class BitWriter
{
    private byte[] _buf;
    private int _len;      // complete bytes written
    private ulong _acc;    // pending bits, right-aligned
    private int _accBits;  // number of pending bits (< 8 after each call)

    [ThreadStatic]
    private static byte[]? t_spare;

    public BitWriter(int capacity = 1024)
    {
        _buf = new byte[Math.Max(16, capacity)];
    }

    private BitWriter(byte[] buffer)
    {
        _buf = buffer;
    }

    /// <summary>A writer over this thread's spare buffer (taken, so nested use gets a fresh one); give it back with <see cref="Release"/>.</summary>
    public static BitWriter Rent()
    {
        var spare = t_spare;
        t_spare = null;
        return new BitWriter(spare ?? new byte[8192]);
    }

    /// <summary>Returns the buffer for reuse by the next encode on this thread (large buffers are dropped).</summary>
    public void Release()
    {
        if (_buf.Length <= 1 << 20) t_spare = _buf;
        _buf = Array.Empty<byte>();
    }

    public long BitPosition => (long)_len * 8 + _accBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteBits(uint value, int n)
    {
        if (n == 0) return;
        _acc = (_acc << n) | (value & ((1UL << n) - 1));
        _accBits += n;
        if (_accBits >= 8) Drain();
    }

    private void Drain()
    {
        while (_accBits >= 8)
        {
            _accBits -= 8;
            if (_len == _buf.Length) Grow(1);
            _buf[_len++] = (byte)(_acc >> _accBits);
        }
        _acc &= (1UL << _accBits) - 1;
    }

    private void Grow(int extra)
    {
        int size = Math.Max(_buf.Length * 2, _len + extra + 16);
        Array.Resize(ref _buf, size);
    }

    public void WriteBoolean(bool b) => WriteBits(b ? 1u : 0u, 1);

    /// <summary>EXI 1.0 §7.1.6 Unsigned Integer: 7-bit groups, least significant first, high bit = more follows.</summary>
    public void WriteUnsigned(ulong value)
    {
        while (value >= 0x80)
        {
            WriteBits((uint)(value & 0x7F) | 0x80, 8);
            value >>= 7;
        }
        WriteBits((uint)value, 8);
    }

    public void WriteUnsigned(BigInteger value)
    {
        if (value.Sign < 0) throw new ArgumentOutOfRangeException(nameof(value));
        if (value <= ulong.MaxValue) { WriteUnsigned((ulong)value); return; }
        while (value >= 0x80)
        {
            WriteBits((uint)(int)(value & 0x7F) | 0x80, 8);
            value >>= 7;
        }
        WriteBits((uint)(int)value, 8);
    }

    public void WriteBytes(ReadOnlySpan<byte> data)
    {
        if (_accBits == 0)
        {
            if (_len + data.Length > _buf.Length) Grow(data.Length);
            data.CopyTo(_buf.AsSpan(_len));
            _len += data.Length;
            return;
        }
        if (_len + data.Length + 1 > _buf.Length) Grow(data.Length + 1);
        // Pending bits stay pending: each output byte = pending bits + top of the next data byte.
        int k = _accBits;
        uint acc = (uint)_acc;
        var buf = _buf;
        int len = _len;
        for (int i = 0; i < data.Length; i++)
        {
            uint b = data[i];
            buf[len++] = (byte)((acc << (8 - k)) | (b >> k));
            acc = b & ((1u << k) - 1);
        }
        _len = len;
        _acc = acc;
    }

    /// <summary>Pads the last byte with zero bits (EXI 1.0 §5: the stream ends padded to a byte).</summary>
    public byte[] ToArray()
    {
        int total = _len + (_accBits > 0 ? 1 : 0);
        var result = new byte[total];
        _buf.AsSpan(0, _len).CopyTo(result);
        if (_accBits > 0) result[_len] = (byte)(_acc << (8 - _accBits));
        return result;
    }
}
