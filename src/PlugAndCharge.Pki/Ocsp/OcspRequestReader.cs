using System.Formats.Asn1;

namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// Reads an OCSPRequest (RFC 6960 §4.1.1) in DER with the allocation-free <see cref="AsnDecoder"/>: only offsets are
/// kept, so the hot path copies no bytes. Anything that is not a well-formed request is malformedRequest.
/// </summary>
public static class OcspRequestReader
{
    // OID content octets, compared as bytes so no string is built per request.
    private static ReadOnlySpan<byte> Sha1Oid => [0x2B, 0x0E, 0x03, 0x02, 0x1A];
    private static ReadOnlySpan<byte> Sha256Oid => [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    private static ReadOnlySpan<byte> Sha384Oid => [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    private static ReadOnlySpan<byte> Sha512Oid => [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    /// <summary>id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2.</summary>
    private static ReadOnlySpan<byte> NonceOid => [0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];

    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0, true);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1, true);
    private static readonly Asn1Tag Context2 = new(TagClass.ContextSpecific, 2, true);

    /// <summary>RFC 8954 §2.1: a nonce is 1 to 32 octets; longer or empty ones are refused with malformedRequest.</summary>
    public const int MaxNonceLength = 32;

    /// <summary>Reads <paramref name="der"/>; null when it is not a well-formed OCSPRequest we can answer (malformedRequest).</summary>
    public static OcspRequest? Read(ReadOnlySpan<byte> der, int maxCertIds)
    {
        try { return ReadCore(der, maxCertIds); }
        catch (AsnContentException) { return null; }
        catch (ArgumentOutOfRangeException) { return null; }
    }

    private static OcspRequest? ReadCore(ReadOnlySpan<byte> der, int maxCertIds)
    {
        // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
        var top = new Cursor(der, 0, der.Length);
        var request = top.Enter(Asn1Tag.Sequence);
        if (!top.AtEnd) return null; // trailing bytes after the request
        var tbs = request.Enter(Asn1Tag.Sequence);
        if (!request.AtEnd && !request.SkipIf(Context0)) return null; // a signature is accepted but not required (§4.1.2)
        if (!request.AtEnd) return null;

        // TBSRequest ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, requestorName [1] EXPLICIT OPTIONAL,
        //                           requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
        if (tbs.Is(Context0))
        {
            var version = tbs.Enter(Context0);
            var v = AsnDecoder.ReadIntegerBytes(version.Rest, AsnEncodingRules.DER, out var used);
            if (v.Length != 1 || v[0] != 0 || used != version.Rest.Length) return null; // only v1 exists
        }
        tbs.SkipIf(Context1);
        var list = tbs.Enter(Asn1Tag.Sequence);
        Range? nonce = null;
        if (tbs.Is(Context2))
        {
            var extensions = tbs.Enter(Context2).Enter(Asn1Tag.Sequence);
            if (!ReadRequestExtensions(ref extensions, out nonce)) return null;
        }
        if (!tbs.AtEnd) return null;

        var ids = new List<OcspCertId>(1);
        while (!list.AtEnd)
        {
            if (ids.Count == maxCertIds) return null;
            // Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
            var single = list.Enter(Asn1Tag.Sequence);
            var id = ReadCertId(ref single);
            if (id == null) return null;
            if (single.Is(Context0))
            {
                var extensions = single.Enter(Context0).Enter(Asn1Tag.Sequence);
                if (!SkipExtensions(ref extensions)) return null;
            }
            if (!single.AtEnd) return null;
            ids.Add(id.Value);
        }
        return ids.Count == 0 ? null : new OcspRequest([.. ids], nonce);
    }

    private static OcspCertId? ReadCertId(ref Cursor request)
    {
        // CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
        //                       issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
        var start = request.Position;
        var certId = request.Enter(Asn1Tag.Sequence);
        var encoded = new Range(start, request.Position);
        var algorithm = certId.Enter(Asn1Tag.Sequence);
        var oid = algorithm.Read(Asn1Tag.ObjectIdentifier);
        var hash = HashOf(request.Slice(oid));
        // Parameters are NULL or absent for the SHA family (RFC 5754 §2); anything else is not a hash we know.
        if (!algorithm.AtEnd && !(algorithm.SkipIf(Asn1Tag.Null) && algorithm.AtEnd)) hash = OcspHashAlgorithm.Unsupported;
        var nameHash = certId.Read(Asn1Tag.PrimitiveOctetString);
        var keyHash = certId.Read(Asn1Tag.PrimitiveOctetString);
        var serial = certId.ReadInteger();
        if (!certId.AtEnd) return null;
        return new OcspCertId(encoded, hash, nameHash, keyHash, serial);
    }

    private static OcspHashAlgorithm HashOf(ReadOnlySpan<byte> oid) =>
        oid.SequenceEqual(Sha1Oid) ? OcspHashAlgorithm.Sha1
        : oid.SequenceEqual(Sha256Oid) ? OcspHashAlgorithm.Sha256
        : oid.SequenceEqual(Sha384Oid) ? OcspHashAlgorithm.Sha384
        : oid.SequenceEqual(Sha512Oid) ? OcspHashAlgorithm.Sha512
        : OcspHashAlgorithm.Unsupported;

    private static bool ReadRequestExtensions(ref Cursor extensions, out Range? nonce)
    {
        nonce = null;
        while (!extensions.AtEnd)
        {
            if (!ReadExtension(ref extensions, out var oid, out var critical, out var value)) return false;
            if (extensions.Slice(oid).SequenceEqual(NonceOid))
            {
                if (nonce != null) return false; // RFC 5280 §4.2: an extension appears at most once
                if (!NonceLengthAllowed(extensions.Slice(value))) return false;
                nonce = value;
            }
            else if (critical) return false; // RFC 6960 §4.4: a critical extension we do not understand cannot be ignored
        }
        return true;
    }

    /// <summary>
    /// RFC 8954 §2.1: extnValue holds Nonce ::= OCTET STRING (SIZE(1..32)). Clients from before RFC 8954 put the raw
    /// bytes there; then those bytes are the nonce and the same size rule applies.
    /// </summary>
    private static bool NonceLengthAllowed(ReadOnlySpan<byte> extnValue)
    {
        var nonce = extnValue;
        try
        {
            if (extnValue.Length > 0 && extnValue[0] == 0x04
                && AsnDecoder.TryReadPrimitiveOctetString(extnValue, AsnEncodingRules.DER, out var inner, out var used) && used == extnValue.Length) nonce = inner;
        }
        catch (AsnContentException) { /* bare nonce bytes that merely start like an OCTET STRING */ }
        return nonce.Length is >= 1 and <= MaxNonceLength;
    }

    private static bool SkipExtensions(ref Cursor extensions)
    {
        while (!extensions.AtEnd)
        {
            if (!ReadExtension(ref extensions, out _, out var critical, out _)) return false;
            if (critical) return false; // no single-request extension is understood (RFC 6960 §4.4)
        }
        return true;
    }

    private static bool ReadExtension(ref Cursor extensions, out Range oid, out bool critical, out Range value)
    {
        // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
        var e = extensions.Enter(Asn1Tag.Sequence);
        oid = e.Read(Asn1Tag.ObjectIdentifier);
        critical = false;
        if (e.Is(Asn1Tag.Boolean))
        {
            critical = AsnDecoder.ReadBoolean(e.Rest, AsnEncodingRules.DER, out _);
            e.Skip();
        }
        value = e.Read(Asn1Tag.PrimitiveOctetString);
        return e.AtEnd;
    }

    /// <summary>A position within one constructed value of the request; offsets stay absolute to the request bytes.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> data, int position, int end)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position = position;
        private readonly int _end = end;

        public readonly int Position => _position;
        public readonly bool AtEnd => _position >= _end;
        public readonly ReadOnlySpan<byte> Rest => _data[_position.._end];
        public readonly ReadOnlySpan<byte> Slice(Range r) => _data[r];

        public readonly bool Is(Asn1Tag tag)
        {
            if (AtEnd || !Asn1Tag.TryDecode(Rest, out var actual, out _)) return false;
            return actual.HasSameClassAndValue(tag) && actual.IsConstructed == tag.IsConstructed;
        }

        /// <summary>Reads the next value, which must carry <paramref name="tag"/>; returns its content range.</summary>
        public Range Read(Asn1Tag tag)
        {
            var actual = AsnDecoder.ReadEncodedValue(Rest, AsnEncodingRules.DER, out var contentOffset, out var contentLength, out var consumed);
            if (!actual.HasSameClassAndValue(tag) || actual.IsConstructed != tag.IsConstructed) throw new AsnContentException($"Expected {tag}, found {actual}.");
            var content = new Range(_position + contentOffset, _position + contentOffset + contentLength);
            _position += consumed;
            return content;
        }

        /// <summary>Reads an INTEGER, refusing non-minimal encodings (X.690 §8.3.2); returns its content range.</summary>
        public Range ReadInteger()
        {
            AsnDecoder.ReadIntegerBytes(Rest, AsnEncodingRules.DER, out _);
            return Read(Asn1Tag.Integer);
        }

        public Cursor Enter(Asn1Tag tag)
        {
            var content = Read(tag);
            return new Cursor(_data, content.Start.Value, content.End.Value);
        }

        public void Skip()
        {
            AsnDecoder.ReadEncodedValue(Rest, AsnEncodingRules.DER, out _, out _, out var consumed);
            _position += consumed;
        }

        public bool SkipIf(Asn1Tag tag)
        {
            if (!Is(tag)) return false;
            Skip();
            return true;
        }
    }
}
