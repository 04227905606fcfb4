namespace PlugAndCharge.Pki.Keys;

/// <summary>
/// A key named by URI, never by its bytes (smallstep-style): <c>file:cpo-subca1.p8</c>, <c>memory:test-1</c>,
/// <c>pkcs11:token=pnc;object=v2g-root</c>, <c>azurekv:vault=...;key=...</c>. One registry turns a URI into a signer.
/// </summary>
public sealed record KeyUri
{
    public string Scheme { get; }
    /// <summary>Everything after "scheme:".</summary>
    public string Body { get; }

    private KeyUri(string scheme, string body) { Scheme = scheme; Body = body; }

    public static KeyUri Parse(string text)
    {
        var i = text.IndexOf(':');
        if (i <= 0 || i == text.Length - 1)
            throw new PkiException(PkiError.BadKeyUri, $"'{text}' is not a key URI (scheme:body, e.g. file:v2g-root.p8).");
        var scheme = text[..i].ToLowerInvariant();
        foreach (var c in scheme)
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '+' and not '.')
                throw new PkiException(PkiError.BadKeyUri, $"'{text}' has an invalid scheme.");
        return new KeyUri(scheme, text[(i + 1)..]);
    }

    /// <summary>The <c>name=value;...</c> attributes of PKCS#11 (RFC 7512) and vault URIs, percent-decoded.</summary>
    public IReadOnlyDictionary<string, string> Attributes()
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in Body.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new PkiException(PkiError.BadKeyUri, $"Key URI attribute '{part}' lacks '='.");
            d[Uri.UnescapeDataString(part[..eq])] = Uri.UnescapeDataString(part[(eq + 1)..]);
        }
        return d;
    }

    public override string ToString() => Scheme + ":" + Body;
}
