using Npgsql;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Local;

namespace PlugAndCharge.Cli;

/// <summary>
/// Where the tool keeps its state and how it reaches the database and keys: home, database and public URL from
/// <see cref="PncSettings"/>, keys from the environment (PNC_KEY_PASSPHRASE / PNC_KEY_PASSPHRASE_FILE, PKCS#11, Key
/// Vault); without a database the tool uses its own managed local cluster under the home folder.
/// </summary>
public sealed class PncEnvironment : IAsyncDisposable
{
    public string Home { get; }
    public string KeyDirectory => Path.Combine(Home, "keys");
    public CertificateAuthorityServices Ca { get; }
    public NpgsqlDataSource Db { get; }
    public PostgresPkiStore Store { get; }
    public string ConnectionString { get; }
    public bool ManagedDatabase { get; }

    private PncEnvironment(string home, string cs, bool managed, NpgsqlDataSource db, PostgresPkiStore store, CertificateAuthorityServices ca)
    {
        Home = home; ConnectionString = cs; ManagedDatabase = managed; Db = db; Store = store; Ca = ca;
    }

    public static async Task<PncEnvironment> OpenAsync(PncSettings settings, TextWriter log, CancellationToken ct = default)
    {
        var home = settings.Home;
        Directory.CreateDirectory(home);
        var cs = settings.Database;
        var managed = settings.ManagedDatabase;
        LocalPostgresCluster? cluster = null;
        if (managed)
        {
            cluster = new LocalPostgresCluster(Path.Combine(home, "postgres"));
            cs = await cluster.EnsureStartedAsync(log, ct);
        }
        var (db, store) = await PkiDatabase.OpenAsync(cs!, ct);
        var options = new PkiOptions { PublicBaseUrl = settings.PublicUrl };
        var keys = new KeyProviderRegistry(KeyProviders(home, managed));
        var profileDir = Environment.GetEnvironmentVariable("PNC_PROFILES");
        var ca = new CertificateAuthorityServices(store, store, store, keys, profileDir != null ? ProfileCatalog.LoadBuiltIn(profileDir) : null, options);
        return new PncEnvironment(home, cs!, managed, db, store, ca) { _startedCluster = cluster is { StartedHere: true } ? cluster : null };
    }

    /// <summary>
    /// Every key backend: software keys always; a PKCS#11 module when PNC_PKCS11_MODULE is set (PIN from
    /// PNC_PKCS11_PIN_FILE or PNC_PKCS11_PIN); Azure Key Vault through DefaultAzureCredential, used only by azurekv: URIs.
    /// </summary>
    private static List<IKeyProvider> KeyProviders(string home, bool managed)
    {
        var providers = new List<IKeyProvider> { new SoftwareKeyProvider(Path.Combine(home, "keys"), () => KeyPassphrase(home, managed)) };
        if (PlugAndCharge.Pki.Pkcs11.Pkcs11Options.FromSettings(Environment.GetEnvironmentVariable) is { } p11)
            providers.Add(new PlugAndCharge.Pki.Pkcs11.Pkcs11KeyProvider(p11));
        providers.Add(new PlugAndCharge.Pki.AzureKeyVault.AzureKeyVaultKeyProvider(new Azure.Identity.DefaultAzureCredential(),
            new PlugAndCharge.Pki.AzureKeyVault.KeyVaultClientOptions { HardwareProtectedKeys = Environment.GetEnvironmentVariable("PNC_AZUREKV_HSM_KEYS") == "true" }));
        return providers;
    }

    /// <summary>
    /// The passphrase of software keys: PNC_KEY_PASSPHRASE, or the file PNC_KEY_PASSPHRASE_FILE names. With the
    /// managed development database and neither set, a random one is generated once into PNC_HOME (0600): fine for a
    /// laptop, not for production, as SECURITY.md says.
    /// </summary>
    private static string KeyPassphrase(string home, bool managed)
    {
        var p = Environment.GetEnvironmentVariable("PNC_KEY_PASSPHRASE");
        if (!string.IsNullOrEmpty(p)) return p;
        var file = Environment.GetEnvironmentVariable("PNC_KEY_PASSPHRASE_FILE");
        if (!string.IsNullOrEmpty(file)) return File.ReadAllText(file).Trim();
        var dev = Path.Combine(home, "dev-key-passphrase");
        if (File.Exists(dev)) return File.ReadAllText(dev).Trim();
        if (!managed) throw new PkiException(PkiError.KeyProviderUnavailable, "Set PNC_KEY_PASSPHRASE or PNC_KEY_PASSPHRASE_FILE for the software keys.");
        var o = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var value = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using (var f = new StreamWriter(new FileStream(dev, o))) f.Write(value);
        return value;
    }

    /// <summary>
    /// Stop the managed PostgreSQL when this environment closes, if this process started it (what <c>pnc up</c> started,
    /// it stops on Ctrl-C; a cluster another process was already using keeps running).
    /// </summary>
    public bool StopManagedDatabaseOnDispose { get; set; }
    private LocalPostgresCluster? _startedCluster;

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Ca.Keys.Dispose();
        await Db.DisposeAsync();
        if (StopManagedDatabaseOnDispose && _startedCluster != null) await _startedCluster.StopAsync();
    }
}
