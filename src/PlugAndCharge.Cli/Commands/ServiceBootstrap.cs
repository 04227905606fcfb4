using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Cli.Commands;

/// <summary>
/// What the host needs before it can serve participants: the participant CA, an HTTPS certificate (from PNC_TLS_CERT /
/// PNC_TLS_KEY PEM files, or issued by the participant CA for localhost), the shared token-signing key (PNC_TOKEN_KEY,
/// base64, or a 0600 file in PNC_HOME), the station password key (PNC_STATION_KEY, likewise), and for newcomers an admin participant with a client certificate on disk.
/// </summary>
internal static class ServiceBootstrap
{
    public static async Task<X509Certificate2> ServerCertificateAsync(PncEnvironment env, ParticipantDirectory directory, CancellationToken ct)
    {
        var certFile = Environment.GetEnvironmentVariable("PNC_TLS_CERT");
        var keyFile = Environment.GetEnvironmentVariable("PNC_TLS_KEY");
        if (!string.IsNullOrEmpty(certFile) && !string.IsNullOrEmpty(keyFile))
        {
            using var fromFiles = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            return X509CertificateLoader.LoadPkcs12(fromFiles.Export(X509ContentType.Pkcs12), null);
        }
        await directory.EnsureParticipantCaAsync("file", Program.Actor, ct);
        return await directory.IssueTlsServerCertificateAsync(["localhost", "127.0.0.1"], Program.Actor, ct);
    }

    public static byte[] TokenSigningKey(PncEnvironment env) => Secret(env, "PNC_TOKEN_KEY", "token-signing.key", "at least 32 bytes", k => k.Length >= 32);

    /// <summary>
    /// The key that wraps contract private keys at rest: PNC_CONTRACT_KEK (base64, 32 bytes), or a 0600 file in
    /// PNC_HOME created once (development).
    /// </summary>
    public static byte[] ContractKeyEncryptionKey(PncEnvironment env) => Secret(env, "PNC_CONTRACT_KEK", "contract-kek.key", "32 bytes", k => k.Length == 32);

    /// <summary>
    /// The dedicated secret service-generated station passwords are kept under as keyed hashes (HMAC-SHA-256 under a
    /// key derived from it): PNC_STATION_KEY (base64, at least 32 bytes), or a 0600 file in PNC_HOME created once and
    /// shared by the instances. Back it up with the others: losing or changing it locks out every station whose record it made.
    /// </summary>
    public static byte[] StationPasswordKey(PncEnvironment env) => Secret(env, "PNC_STATION_KEY", "station-password.key", "at least 32 bytes", k => k.Length >= 32);

    /// <summary>A service secret: the base64 of the environment variable, else of a 0600 file in PNC_HOME created with 32 random bytes.</summary>
    private static byte[] Secret(PncEnvironment env, string variable, string fileName, string size, Func<byte[], bool> fits)
    {
        var configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(configured))
        {
            var key = Convert.FromBase64String(configured);
            return fits(key) ? key : throw new UsageException($"{variable} must be {size}, base64.");
        }
        var file = Path.Combine(env.Home, fileName);
        if (!File.Exists(file)) WriteSecret(file, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return Convert.FromBase64String(File.ReadAllText(file).Trim());
    }

    /// <summary>
    /// A CPS leaf signer per ISO standard whose CPS Sub-CA 2 exists, keys beside the CA keys. The current leaf is
    /// recorded in the database (cps_signing_leaves), so every instance on it signs with the same leaf and key (by key
    /// URI: the key directory in PNC_HOME must be shared by the instances, or the keys live in PKCS#11 / Key Vault); it
    /// is replaced only when missing, revoked, within 30 days of expiry, no longer issued by the current CPS Sub-CA 2,
    /// or its key cannot be opened, and then by one instance alone while the others wait for its leaf.
    /// </summary>
    public static async Task<IReadOnlyList<PlugAndCharge.Contracts.Signing.CpsSigner>> CpsSignersAsync(PncEnvironment env, CancellationToken ct)
    {
        var leaves = new PlugAndCharge.Storage.Contracts.PostgresCpsSigningLeaves(env.Db);
        // The standards' leaves are independent, and opening each key (PBES2, 210,000 PBKDF2 iterations) is most of
        // the time before the instance listens again after a restart: open them side by side.
        var signers = await Task.WhenAll(new[] { "iso2", "iso20" }.Select(async standard =>
        {
            var subCa = $"{standard}-cps-subca2";
            return await env.Ca.CaStore.GetAsync(subCa, ct) == null ? null : await CpsSignerAsync(env, leaves, standard, subCa, ct);
        }));
        return signers.OfType<PlugAndCharge.Contracts.Signing.CpsSigner>().ToList();
    }

    /// <summary>How long a renewing instance may take to issue the next leaf before another may take over.</summary>
    private static readonly TimeSpan CpsRenewalHold = TimeSpan.FromMinutes(1);

    private static async Task<PlugAndCharge.Contracts.Signing.CpsSigner> CpsSignerAsync(PncEnvironment env, PlugAndCharge.Storage.Contracts.PostgresCpsSigningLeaves leaves,
        string standard, string subCa, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + CpsRenewalHold + TimeSpan.FromSeconds(30);
        while (true)
        {
            var current = await leaves.GetAsync(standard, ct);
            if (current != null && await ReuseCpsSignerAsync(env, subCa, current, ct) is { } kept) return kept;
            if (await leaves.TryClaimRenewalAsync(standard, current?.SerialNumber, CpsRenewalHold, ct))
            {
                try
                {
                    var signer = await PlugAndCharge.Contracts.Signing.CpsSigner.IssueAsync(env.Ca, subCa,
                        PlugAndCharge.Pki.Keys.KeyLocation.NewKeyUri("file", $"cps-leaf-{standard}-{Guid.NewGuid():N}"),
                        $"CN=CPS Leaf {standard},O=PlugAndCharge,DC=CPS", Program.Actor, ct);
                    await leaves.StoreAsync(new PlugAndCharge.Storage.Contracts.CpsSigningLeaf(standard, subCa,
                        PlugAndCharge.Pki.X509.SerialNumbers.ToHex(signer.Leaf.SerialNumber), signer.Id, signer.LeafDer), ct);
                    return signer;
                }
                catch
                {
                    await leaves.ReleaseRenewalAsync(standard, CancellationToken.None);
                    throw;
                }
            }
            // Another instance is renewing it (or just did): wait for its leaf.
            if (DateTime.UtcNow > deadline)
                throw new UsageException($"The {standard} CPS leaf is being renewed by another instance that has not finished; start again.");
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    private static async Task<PlugAndCharge.Contracts.Signing.CpsSigner?> ReuseCpsSignerAsync(PncEnvironment env, string subCaId, PlugAndCharge.Storage.Contracts.CpsSigningLeaf current, CancellationToken ct)
    {
        try
        {
            var leaf = PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(current.Der);
            // The Sub-CA's certificates only: its key (another PBKDF2) is opened when a leaf is issued, not to reuse one.
            var (_, chain) = await env.Ca.Authorities.ChainAsync(subCaId, ct);
            if (current.SubCaId != subCaId || !leaf.IssuerDN.Equivalent(chain[0].SubjectDN) || leaf.NotAfter.ToUniversalTime() < DateTime.UtcNow.AddDays(30)) return null;
            var record = await env.Ca.Certificates.GetAsync(subCaId, PlugAndCharge.Pki.X509.SerialNumbers.ToHex(leaf.SerialNumber), ct);
            if (record is not { Status: PlugAndCharge.Pki.Stores.CertificateStatus.Valid }) return null;
            leaf.Verify(chain[0].GetPublicKey());
            var key = await env.Ca.Keys.OpenAsync(PlugAndCharge.Pki.Keys.KeyUri.Parse(current.KeyUri), ct);
            return new PlugAndCharge.Contracts.Signing.CpsSigner(current.KeyUri, leaf, chain.Take(chain.Count - 1).ToList(), chain[^1], key);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null; // unreadable, foreign or keyless here: renew it
        }
    }

    /// <summary>The hub operator's own participant with a client certificate and key in PNC_HOME/participants (0600).</summary>
    public static async Task<(string CertFile, string KeyFile, string CaFile)> AdminCredentialAsync(PncEnvironment env, ParticipantDirectory directory, CancellationToken ct)
    {
        var dir = Path.Combine(env.Home, "participants");
        Directory.CreateDirectory(dir);
        var (certFile, keyFile, caFile) = (Path.Combine(dir, "admin.crt"), Path.Combine(dir, "admin.key"), Path.Combine(dir, "participant-ca.crt"));
        var ca = await directory.EnsureParticipantCaAsync("file", Program.Actor, ct);
        await File.WriteAllTextAsync(caFile, PemEncoding.WriteString("CERTIFICATE", ca.CertificateDer) + "\n", ct);
        if (await directory.Store.GetAsync("admin", ct) == null)
            await directory.RegisterAsync("admin", "Hub operator", ParticipantRole.Admin, [], "PlugAndCharge Hub", Program.Actor, ct);
        if (File.Exists(certFile) && File.Exists(keyFile)) return (certFile, keyFile, caFile);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=admin", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = await directory.IssueClientCertificateAsync("admin", csr, Program.Actor, ct);
        WriteSecret(keyFile, key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(certFile, PemEncoding.WriteString("CERTIFICATE", issued.Certificate.GetEncoded()) + "\n", ct);
        return (certFile, keyFile, caFile);
    }

    private static void WriteSecret(string path, string content)
    {
        var o = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var f = new StreamWriter(new FileStream(path, o));
        f.Write(content);
    }
}
