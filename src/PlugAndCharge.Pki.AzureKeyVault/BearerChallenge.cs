namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>
/// The parameters of the Bearer challenge in a WWW-Authenticate header (RFC 7235 §4.1, RFC 6750 §3):
/// <c>Bearer authorization="https://login.microsoftonline.com/TENANT", resource="https://vault.azure.net"</c>.
/// </summary>
internal static class BearerChallenge
{
    public static IReadOnlyDictionary<string, string>? Parse(IEnumerable<string> headerValues)
    {
        foreach (var header in headerValues)
        {
            var p = Parameters(header);
            if (p != null) return p;
        }
        return null;
    }

    private static Dictionary<string, string>? Parameters(string header)
    {
        var i = 0;
        Dictionary<string, string>? bearer = null;
        while (i < header.Length)
        {
            SkipSeparators(header, ref i);
            var token = Token(header, ref i);
            if (token.Length == 0) { i++; continue; }
            SkipSpaces(header, ref i);
            if (i < header.Length && header[i] == '=')
            {
                // A parameter of the current challenge.
                i++;
                SkipSpaces(header, ref i);
                var value = i < header.Length && header[i] == '"' ? Quoted(header, ref i) : Token(header, ref i);
                bearer?.TryAdd(token.ToLowerInvariant(), value);
                continue;
            }
            // A new challenge scheme: after Bearer's parameters, stop at the next scheme.
            if (bearer != null) return bearer;
            if (token.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) bearer = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }
        return bearer;
    }

    private static void SkipSpaces(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t') i++; }
    private static void SkipSeparators(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t' or ',') i++; }

    private static string Token(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"')) i++;
        return s[start..i];
    }

    private static string Quoted(string s, ref int i)
    {
        var sb = new System.Text.StringBuilder();
        for (i++; i < s.Length && s[i] != '"'; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i]);
        }
        i++;
        return sb.ToString();
    }
}
