namespace PlugAndCharge.Core.Participants;

/// <summary>The identity formats each role owns, checked when the operator registers them.</summary>
public static class ParticipantIdentities
{
    public static string Normalize(string identity) =>
        string.Concat(identity.Where(c => c is not ('-' or '*' or ' '))).ToUpperInvariant();

    /// <summary>Null when the identity fits the role, otherwise why not.</summary>
    public static string? Problem(ParticipantRole role, string identity)
    {
        var id = Normalize(identity);
        return role switch
        {
            ParticipantRole.Admin => "an admin owns no identities",
            // WMI: three characters of the ISO 3779 vehicle identification alphabet.
            ParticipantRole.Oem when id.Length != 3 || !id.All(char.IsAsciiLetterOrDigit) => $"'{identity}' is not a WMI (3 letters or digits)",
            // Provider ID / operator ID: ISO 3166 alpha-2 country + 3 alphanumerics (eMI3, ISO 15118-1 Annex H).
            ParticipantRole.Emsp or ParticipantRole.Cpo when id.Length != 5 || !char.IsAsciiLetter(id[0]) || !char.IsAsciiLetter(id[1]) || !id.All(char.IsAsciiLetterOrDigit)
                => $"'{identity}' is not a {(role == ParticipantRole.Emsp ? "provider" : "operator")} ID (country code + 3 letters or digits, e.g. DE8AA)",
            _ => null,
        };
    }
}
