using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PlugAndCharge.Pki.Profiles;

/// <summary>
/// The certificate profiles by id (e.g. <c>iso2/contract</c>). The built-in set is pki/profiles embedded in this
/// assembly; an operator may point at a folder of their own whose files replace or add profiles.
/// </summary>
public sealed class ProfileCatalog
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly FrozenDictionary<string, CertificateProfile> _profiles;

    private ProfileCatalog(IEnumerable<CertificateProfile> profiles)
    {
        _profiles = profiles.ToFrozenDictionary(p => p.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var p in _profiles.Values)
            foreach (var issuer in p.Issuers)
                if (!_profiles.ContainsKey(issuer))
                    throw new InvalidDataException($"Profile {p.Id} names unknown issuer profile {issuer}.");
    }

    public static ProfileCatalog BuiltIn { get; } = LoadBuiltIn(null);

    /// <summary>The built-in profiles, overlaid with the *.json files of <paramref name="overrideDirectory"/> when given.</summary>
    public static ProfileCatalog LoadBuiltIn(string? overrideDirectory)
    {
        var byId = new Dictionary<string, CertificateProfile>(StringComparer.OrdinalIgnoreCase);
        var asm = typeof(ProfileCatalog).Assembly;
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("profiles/", StringComparison.Ordinal)).Order())
        {
            using var s = asm.GetManifestResourceStream(name)!;
            var p = Parse(s, name);
            byId[p.Id] = p;
        }
        if (overrideDirectory != null)
            foreach (var file in Directory.EnumerateFiles(overrideDirectory, "*.json", SearchOption.AllDirectories).Order())
            {
                using var s = File.OpenRead(file);
                var p = Parse(s, file);
                byId[p.Id] = p;
            }
        return new ProfileCatalog(byId.Values);
    }

    public static CertificateProfile Parse(Stream json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<CertificateProfile>(json, Json) ?? throw new InvalidDataException($"{source}: empty profile.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    public IEnumerable<CertificateProfile> All => _profiles.Values.OrderBy(p => p.Id, StringComparer.Ordinal);

    public CertificateProfile Get(string id) =>
        _profiles.TryGetValue(id, out var p) ? p : throw new PkiException(PkiError.UnknownProfile, $"No certificate profile '{id}'. Known: {string.Join(", ", All.Select(x => x.Id))}.");

    public bool TryGet(string id, out CertificateProfile profile) => _profiles.TryGetValue(id, out profile!);
}
