namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Just enough DER reading to cut the signed part (tbsCertificate, tbsCertList) out of the original bytes, so signatures
/// are verified over exactly what the issuer signed (RFC 5280 §4.1.1.3) and never over a re-encoding.
/// </summary>
internal static class DerTlv
{
    /// <summary>Reads the tag-length header at <paramref name="offset"/>; definite lengths only, as DER and X.509 require.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, int offset, out int contentOffset, out int contentLength)
    {
        contentOffset = 0;
        contentLength = 0;
        if (offset + 2 > data.Length || (data[offset] & 0x1F) == 0x1F)
        {
            return false;
        }

        var first = data[offset + 1];
        var position = offset + 2;
        if (first < 0x80)
        {
            contentLength = first;
        }
        else
        {
            var count = first & 0x7F;
            if (count == 0 || count > 4 || position + count > data.Length)
            {
                return false;
            }

            long length = 0;
            for (var i = 0; i < count; i++)
            {
                length = (length << 8) | data[position + i];
            }

            position += count;
            if (length > int.MaxValue)
            {
                return false;
            }

            contentLength = (int)length;
        }

        if ((long)position + contentLength > data.Length)
        {
            return false;
        }

        contentOffset = position;
        return true;
    }

    /// <summary>Offset and length of the first element (header included) inside the outer SEQUENCE of a signed structure.</summary>
    public static bool TryFindSignedPart(ReadOnlySpan<byte> signedStructure, out int offset, out int length)
    {
        offset = 0;
        length = 0;
        if (signedStructure.Length == 0 || signedStructure[0] != 0x30 ||
            !TryReadHeader(signedStructure, 0, out var outerContent, out _) ||
            signedStructure[outerContent] != 0x30 ||
            !TryReadHeader(signedStructure, outerContent, out var innerContent, out var innerLength))
        {
            return false;
        }

        offset = outerContent;
        length = innerContent - outerContent + innerLength;
        return true;
    }
}
