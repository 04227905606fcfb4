using System.Runtime.CompilerServices;
using System.Text;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Reads certificates and CRLs from DER or PEM and remembers the bytes they came from. BouncyCastle re-encodes a parsed
/// certificate as DER when asked for its bytes, which changes non-canonical encodings found in the field (a BOOLEAN TRUE
/// written as 0x01, for instance) and would break their signatures; the validator verifies over the remembered bytes.
/// </summary>
public static class CertificateReader
{
    private const string PemCertificate = "CERTIFICATE";
    private const string PemCrl = "X509 CRL";

    private static readonly ConditionalWeakTable<object, byte[]> Originals = new();

    /// <summary>One certificate from DER, or the first one of a PEM text.</summary>
    public static X509Certificate ReadCertificate(ReadOnlySpan<byte> derOrPem)
    {
        var ders = Decode(derOrPem, PemCertificate);
        if (ders.Count == 0)
        {
            throw new FormatException("no certificate found");
        }

        return FromDer(ders[0]);
    }

    /// <summary>Every certificate of a PEM bundle, or the single certificate of a DER blob.</summary>
    public static IReadOnlyList<X509Certificate> ReadCertificates(ReadOnlySpan<byte> derOrPem)
    {
        var ders = Decode(derOrPem, PemCertificate);
        var result = new List<X509Certificate>(ders.Count);
        foreach (var der in ders)
        {
            result.Add(FromDer(der));
        }

        return result;
    }

    /// <summary>Every certificate of a PEM or DER file.</summary>
    public static IReadOnlyList<X509Certificate> ReadCertificateFile(string path) => ReadCertificates(File.ReadAllBytes(path));

    /// <summary>One CRL from DER or PEM.</summary>
    public static X509Crl ReadCrl(ReadOnlySpan<byte> derOrPem)
    {
        var ders = Decode(derOrPem, PemCrl);
        if (ders.Count == 0)
        {
            throw new FormatException("no CRL found");
        }

        var crl = new X509Crl(ders[0]);
        Originals.AddOrUpdate(crl, ders[0]);
        return crl;
    }

    /// <summary>The bytes the object was read from, or BouncyCastle's DER encoding of it when it was built elsewhere.</summary>
    internal static byte[] OriginalEncoding(X509Certificate certificate) =>
        Originals.TryGetValue(certificate, out var der) ? der : certificate.GetEncoded();

    internal static byte[] OriginalEncoding(X509Crl crl) =>
        Originals.TryGetValue(crl, out var der) ? der : crl.GetEncoded();

    private static X509Certificate FromDer(byte[] der)
    {
        X509Certificate certificate;
        try
        {
            certificate = new X509Certificate(der);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException("certificate cannot be parsed: " + e.Message, e);
        }

        Originals.AddOrUpdate(certificate, der);
        return certificate;
    }

    private static List<byte[]> Decode(ReadOnlySpan<byte> data, string label)
    {
        var result = new List<byte[]>();
        if (data.Length > 0 && data[0] == 0x30)
        {
            result.Add(data.ToArray());
            return result;
        }

        var text = Encoding.ASCII.GetString(data);
        var begin = $"-----BEGIN {label}-----";
        var end = $"-----END {label}-----";
        var position = 0;
        while (true)
        {
            var start = text.IndexOf(begin, position, StringComparison.Ordinal);
            if (start < 0)
            {
                break;
            }

            start += begin.Length;
            var stop = text.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0)
            {
                throw new FormatException($"unterminated PEM block {label}");
            }

            result.Add(Convert.FromBase64String(text[start..stop]));
            position = stop + end.Length;
        }

        return result;
    }
}
