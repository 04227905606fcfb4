using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Cli.Commands;

/// <summary>
/// What the host needs before it can serve participants: the participant CA, an HTTPS certificate (from PNC_TLS_CERT /
/// PNC_TLS_KEY PEM files, or issued by the participant CA for localhost), the shared token-signing key (PNC_TOKEN_KEY,
/// base64, or a 0600 file in PNC_HOME), and for newcomers an admin participant with a client certificate on disk.
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

    public static byte[] TokenSigningKey(PncEnvironment env)
    {
        var configured = Environment.GetEnvironmentVariable("PNC_TOKEN_KEY");
        if (!string.IsNullOrEmpty(configured))
        {
            var key = Convert.FromBase64String(configured);
            return key.Length >= 32 ? key : throw new UsageException("PNC_TOKEN_KEY must be at least 32 bytes, base64.");
        }
        var file = Path.Combine(env.Home, "token-signing.key");
        if (!File.Exists(file)) WriteSecret(file, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return Convert.FromBase64String(File.ReadAllText(file).Trim());
    }

    /// <summary>
    /// The key that wraps contract private keys at rest: PNC_CONTRACT_KEK (base64, 32 bytes), or a 0600 file in
    /// PNC_HOME created once (development).
    /// </summary>
    public static byte[] ContractKeyEncryptionKey(PncEnvironment env)
    {
        var configured = Environment.GetEnvironmentVariable("PNC_CONTRACT_KEK");
        if (!string.IsNullOrEmpty(configured))
        {
            var key = Convert.FromBase64String(configured);
            return key.Length == 32 ? key : throw new UsageException("PNC_CONTRACT_KEK must be 32 bytes, base64.");
        }
        var file = Path.Combine(env.Home, "contract-kek.key");
        if (!File.Exists(file)) WriteSecret(file, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return Convert.FromBase64String(File.ReadAllText(file).Trim());
    }

    /// <summary>
    /// A CPS leaf signer per ISO standard whose CPS Sub-CA 2 exists, keys beside the CA keys. The leaf is kept across
    /// restarts (its certificate and key URI in PNC_HOME/cps-leaf-STANDARD.*) and replaced only when it is missing,
    /// revoked, within 30 days of expiry, or no longer issued by the current CPS Sub-CA 2.
    /// </summary>
    public static async Task<IReadOnlyList<PlugAndCharge.Contracts.Signing.CpsSigner>> CpsSignersAsync(PncEnvironment env, CancellationToken ct)
    {
        var signers = new List<PlugAndCharge.Contracts.Signing.CpsSigner>();
        foreach (var standard in new[] { "iso2", "iso20" })
        {
            var subCa = $"{standard}-cps-subca2";
            if (await env.Ca.CaStore.GetAsync(subCa, ct) == null) continue;
            var (certFile, uriFile) = (Path.Combine(env.Home, $"cps-leaf-{standard}.pem"), Path.Combine(env.Home, $"cps-leaf-{standard}.key-uri"));
            if (await ReuseCpsSignerAsync(env, subCa, certFile, uriFile, ct) is { } kept)
            {
                signers.Add(kept);
                continue;
            }
            var signer = await PlugAndCharge.Contracts.Signing.CpsSigner.IssueAsync(env.Ca, subCa,
                PlugAndCharge.Pki.Keys.KeyLocation.NewKeyUri("file", $"cps-leaf-{standard}-{Guid.NewGuid():N}"),
                $"CN=CPS Leaf {standard},O=PlugAndCharge,DC=CPS", Program.Actor, ct);
            await File.WriteAllTextAsync(certFile, PemEncoding.WriteString("CERTIFICATE", signer.LeafDer) + "\n", ct);
            await File.WriteAllTextAsync(uriFile, signer.Id, ct);
            signers.Add(signer);
        }
        return signers;
    }

    private static async Task<PlugAndCharge.Contracts.Signing.CpsSigner?> ReuseCpsSignerAsync(PncEnvironment env, string subCaId, string certFile, string uriFile, CancellationToken ct)
    {
        if (!File.Exists(certFile) || !File.Exists(uriFile)) return null;
        try
        {
            var pem = await File.ReadAllTextAsync(certFile, ct);
            var leaf = PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]));
            var subCa = await env.Ca.Authorities.GetAsync(subCaId, ct);
            if (!leaf.IssuerDN.Equivalent(subCa.Certificate.SubjectDN) || leaf.NotAfter.ToUniversalTime() < DateTime.UtcNow.AddDays(30)) return null;
            var record = await env.Ca.Certificates.GetAsync(subCaId, PlugAndCharge.Pki.X509.SerialNumbers.ToHex(leaf.SerialNumber), ct);
            if (record is not { Status: PlugAndCharge.Pki.Stores.CertificateStatus.Valid }) return null;
            leaf.Verify(subCa.Certificate.GetPublicKey());
            var keyUri = (await File.ReadAllTextAsync(uriFile, ct)).Trim();
            var key = await env.Ca.Keys.OpenAsync(PlugAndCharge.Pki.Keys.KeyUri.Parse(keyUri), ct);
            var chain = subCa.ChainIncludingSelf;
            return new PlugAndCharge.Contracts.Signing.CpsSigner(keyUri, leaf, chain.Take(chain.Count - 1).ToList(), chain[^1], key);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null; // unreadable, foreign or keyless: issue a new one
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
