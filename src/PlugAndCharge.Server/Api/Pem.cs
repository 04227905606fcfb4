namespace PlugAndCharge.Server.Api;

/// <summary>PEM or bare base64 in JSON bodies, as participants paste them.</summary>
public static class Pem
{
    /// <summary>
    /// A certificate chain as OPCP bodies carry it: the leaf and Sub-CA 1 required, Sub-CA 2 optional (a leaf may hang
    /// directly under Sub-CA 1). Null, with <paramref name="problem"/> naming the field, when one is missing or unreadable.
    /// </summary>
    public static (byte[] Leaf, byte[]? Sub2, byte[] Sub1)? DecodeChain((string Field, string? Text) leaf, (string Field, string? Text) sub2,
        (string Field, string? Text) sub1, out string problem)
    {
        problem = "";
        var leafDer = DecodeOne(leaf.Text, "CERTIFICATE");
        if (leafDer == null) { problem = $"Invalid certificate format on {leaf.Field} (base64 DER or PEM; required)."; return null; }
        var sub1Der = DecodeOne(sub1.Text, "CERTIFICATE");
        if (sub1Der == null) { problem = $"Invalid certificate format on {sub1.Field} (base64 DER or PEM; required)."; return null; }
        byte[]? sub2Der = null;
        if (!string.IsNullOrWhiteSpace(sub2.Text) && (sub2Der = DecodeOne(sub2.Text, "CERTIFICATE")) == null)
        {
            problem = $"Invalid certificate format on {sub2.Field} (base64 DER or PEM).";
            return null;
        }
        return (leafDer, sub2Der, sub1Der);
    }

    public static byte[]? DecodeOne(string? text, string label)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (text.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            if (!System.Security.Cryptography.PemEncoding.TryFind(text, out var fields)) return null;
            var found = text[fields.Label];
            if (!found.EndsWith(label, StringComparison.Ordinal) && !(label == "CERTIFICATE REQUEST" && found == "NEW CERTIFICATE REQUEST")) return null;
            return Convert.FromBase64String(text[fields.Base64Data]);
        }
        try { return Convert.FromBase64String(text); } catch (FormatException) { return null; }
    }
}
