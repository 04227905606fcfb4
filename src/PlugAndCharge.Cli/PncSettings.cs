namespace PlugAndCharge.Cli;

/// <summary>
/// Where pnc keeps its state and finds its database, resolved from options then environment: the home folder
/// (PNC_HOME, default ./.pnc), the connection string (PNC_DATABASE; none means the managed local cluster under the home
/// folder) and the public base URL of certificates' OCSP, CRL and CA URLs (PNC_PUBLIC_URL).
/// </summary>
public sealed record PncSettings(string Home, string? Database, string PublicUrl)
{
    public const string DefaultPublicUrl = "http://localhost:5080";

    /// <summary>Without a configured database the tool runs its own PostgreSQL under <see cref="Home"/> (development).</summary>
    public bool ManagedDatabase => string.IsNullOrEmpty(Database);

    public static PncSettings Resolve(string? home, string? database, string? publicUrl, string defaultPublicUrl = DefaultPublicUrl) => new(
        Path.GetFullPath(home ?? Environment.GetEnvironmentVariable("PNC_HOME") ?? Path.Combine(Directory.GetCurrentDirectory(), ".pnc")),
        database ?? Environment.GetEnvironmentVariable("PNC_DATABASE"),
        publicUrl ?? Environment.GetEnvironmentVariable("PNC_PUBLIC_URL") ?? defaultPublicUrl);
}
