using System.Numerics;
using System.Runtime.CompilerServices;

namespace PlugAndCharge.Exi.IO;

/// <summary>
/// Reads the bit-packed EXI stream (EXI 1.0 §7, alignment "bit-packed"): most significant bit first.
/// Every read checks the remaining length first so hostile input fails with <see cref="ExiDecodeException"/>
/// before anything is allocated.
/// </summary>
internal sealed class BitReader
{
    private readonly byte[] _buf;
    private readonly int _start;
    private readonly long _endBit;
    private long _pos; // absolute bit position from _start

    public BitReader(byte[] buffer, int offset, int length)
    {
        _buf = buffer;
        _start = offset;
        _endBit = (long)length * 8;
    }

    public long Position => _pos;
    public long RemainingBits => _endBit - _pos;

    public void Rewind(long position) => _pos = position;

    public ExiDecodeException Error(string reason) => new(_pos, reason);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBits(int n)
    {
        if (n == 0) return 0;
        if (_pos + n > _endBit) throw Error("unexpected end of stream");
        return (int)ReadBitsUnchecked(n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReadBitsUnchecked(int n)
    {
        // n <= 32; gather up to 5 bytes covering the requested bits.
        long pos = _pos;
        int byteIndex = _start + (int)(pos >> 3);
        int bitOffset = (int)(pos & 7);
        int needBits = bitOffset + n;
        ulong window = 0;
        int bytes = (needBits + 7) >> 3;
        for (int i = 0; i < bytes; i++) window = (window << 8) | _buf[byteIndex + i];
        window >>= (bytes * 8) - needBits;
        _pos = pos + n;
        return (uint)(window & ((1UL << n) - 1));
    }

    public bool ReadBoolean() => ReadBits(1) != 0;

    /// <summary>EXI 1.0 §7.1.6 Unsigned Integer limited to 32 bits (lengths, counts, code points).</summary>
    public uint ReadUInt32()
    {
        uint result = 0;
        int shift = 0;
        while (true)
        {
            int b = ReadBits(8);
            if (shift == 28 && (b & 0x70) != 0) throw Error("unsigned integer exceeds 32 bits");
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
            shift += 7;
            if (shift > 28) throw Error("unsigned integer exceeds 32 bits");
        }
    }

    /// <summary>A length or count that must fit in an int (and, for hostile input, in the stream).</summary>
    public int ReadLength()
    {
        uint v = ReadUInt32();
        if (v > int.MaxValue) throw Error("length too large");
        return (int)v;
    }

    /// <summary>EXI 1.0 §7.1.6 Unsigned Integer of arbitrary magnitude. Returns false in <paramref name="big"/> use when it exceeds 64 bits.</summary>
    public ulong ReadUnsigned(out BigInteger? big)
    {
        big = null;
        ulong result = 0;
        int shift = 0;
        while (true)
        {
            int b = ReadBits(8);
            ulong part = (ulong)(b & 0x7F);
            if (shift <= 57 || (shift == 63 && part <= 1))
            {
                result |= part << shift;
            }
            else
            {
                // Beyond 64 bits: continue in BigInteger (xs:integer is unbounded).
                BigInteger acc = result;
                BigInteger p = new BigInteger(part) << shift;
                acc += p;
                while ((b & 0x80) != 0)
                {
                    shift += 7;
                    if (shift > 7 * 4096) throw Error("unsigned integer too long");
                    b = ReadBits(8);
                    acc += new BigInteger(b & 0x7F) << shift;
                }
                big = acc;
                return 0;
            }
            if ((b & 0x80) == 0) return result;
            shift += 7;
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes (EXI binary payload, 8 bits each). Length is checked before allocation.</summary>
    public byte[] ReadBytes(int count)
    {
        if (count < 0 || (long)count * 8 > RemainingBits) throw Error($"declared length {count} exceeds the remaining input");
        var result = GC.AllocateUninitializedArray<byte>(count);
        ReadBytesInto(result);
        return result;
    }

    private void ReadBytesInto(Span<byte> dest)
    {
        int count = dest.Length;
        int byteIndex = _start + (int)(_pos >> 3);
        int bitOffset = (int)(_pos & 7);
        if (bitOffset == 0)
        {
            _buf.AsSpan(byteIndex, count).CopyTo(dest);
        }
        else
        {
            int inv = 8 - bitOffset;
            var src = _buf;
            for (int i = 0; i < count; i++)
            {
                int hi = src[byteIndex + i] << bitOffset;
                int lo = src[byteIndex + i + 1] >> inv;
                dest[i] = (byte)(hi | lo);
            }
        }
        _pos += (long)count * 8;
    }

    public void EnsureBits(long bits, string what)
    {
        if (bits > RemainingBits) throw Error($"{what} exceeds the remaining input");
    }
}
