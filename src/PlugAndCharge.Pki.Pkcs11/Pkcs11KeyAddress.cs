using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// The path attributes of an RFC 7512 URI that name a key: <c>pkcs11:token=pnc;object=v2g-root[;id=%01%02]</c>.
/// "token" selects the token by label (§2.3 token), "object" is CKA_LABEL, "id" CKA_ID; "type", when given, must be
/// private (the CA opens private keys; the public half is found beside it). Query attributes (module-path, pin-value)
/// are refused: the module and PIN come from configuration, never from a URI stored in the database.
/// </summary>
internal sealed record Pkcs11KeyAddress(string Token, string? Label, byte[]? Id)
{
    public static Pkcs11KeyAddress Parse(KeyUri uri)
    {
        if (uri.Scheme != "pkcs11") throw new PkiException(PkiError.BadKeyUri, $"'{uri}' is not a pkcs11: URI.");
        if (uri.Body.Contains('?', StringComparison.Ordinal))
            throw new PkiException(PkiError.BadKeyUri, $"'{uri}': query attributes (module-path, pin-value, pin-source) are not accepted; the module and PIN come from configuration.");
        string? token = null, label = null;
        byte[]? id = null;
        foreach (var part in uri.Body.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': attribute '{part}' lacks '='.");
            var name = part[..eq].ToLowerInvariant();
            var raw = part[(eq + 1)..];
            switch (name)
            {
                case "token": token = Uri.UnescapeDataString(raw); break;
                case "object": label = Uri.UnescapeDataString(raw); break;
                case "id": id = PercentDecodeBytes(uri, raw); break;
                case "type":
                    if (!raw.Equals("private", StringComparison.OrdinalIgnoreCase))
                        throw new PkiException(PkiError.BadKeyUri, $"'{uri}': a CA key URI names a private key (type=private), not type={raw}.");
                    break;
                // RFC 7512 §2.3: further token/library attributes narrow the match; the label already selects one token.
                case "manufacturer" or "model" or "serial" or "library-manufacturer" or "library-description" or "library-version" or "slot-id" or "slot-description" or "slot-manufacturer":
                    break;
                default: throw new PkiException(PkiError.BadKeyUri, $"'{uri}': unknown PKCS#11 URI attribute '{name}' (RFC 7512).");
            }
        }
        if (string.IsNullOrEmpty(token)) throw new PkiException(PkiError.BadKeyUri, $"'{uri}' names no token (pkcs11:token=LABEL;object=NAME).");
        if (string.IsNullOrEmpty(label) && id == null) throw new PkiException(PkiError.BadKeyUri, $"'{uri}' names no key (object=NAME or id=%XX...).");
        if (token.Length > 32 || (label?.Length ?? 0) > 255) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': token labels have at most 32 characters.");
        return new Pkcs11KeyAddress(token, label, id);
    }

    /// <summary>RFC 7512 §2.3: id is a byte string, every byte percent-encoded.</summary>
    private static byte[] PercentDecodeBytes(KeyUri uri, string raw)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] > '~') throw new PkiException(PkiError.BadKeyUri, $"'{uri}': id bytes must be percent-encoded.");
            if (raw[i] != '%') { bytes.Add((byte)raw[i]); continue; }
            if (i + 2 >= raw.Length || !byte.TryParse(raw.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
                throw new PkiException(PkiError.BadKeyUri, $"'{uri}': bad percent-encoding in id.");
            bytes.Add(b);
            i += 2;
        }
        if (bytes.Count == 0) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': empty id.");
        return [.. bytes];
    }
}
