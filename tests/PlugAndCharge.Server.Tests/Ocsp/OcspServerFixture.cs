using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Ocsp;
using PlugAndCharge.Server.Api.Ocsp;
using PlugAndCharge.Storage;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Server.Tests.Ocsp;

/// <summary>
/// The OCSP endpoints running on Kestrel at 127.0.0.1 on a free port, over the PostgreSQL stores of a fresh database
/// with the development hierarchy, whose certificates name this server in their AIA.
/// </summary>
public sealed class OcspServerFixture : IAsyncLifetime
{
    public const string MoSubCa = "iso2-mo-subca2";
    private PostgresDatabase? _database;
    private NpgsqlDataSource? _db;
    private PostgresPkiStore? _store;
    private WebApplication? _app;

    public CertificateAuthorityServices Ca { get; private set; } = null!;
    public OcspResponder Responder { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public string Dir { get; } = Directory.CreateTempSubdirectory("pnc-ocsp-").FullName;
    /// <summary>Root, MO Sub-CA 1 and MO Sub-CA 2: what a verifier trusts to check our responder's certificate.</summary>
    public string TrustPem => Path.Combine(Dir, "mo-chain.pem");
    public string IssuerPem => Path.Combine(Dir, "mo-subca2.pem");

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        (_db, _store) = await PkiDatabase.OpenAsync(_database.ConnectionString);
        var options = new PkiOptions();
        Ca = new CertificateAuthorityServices(_store, _store, _store, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, options);
        Responder = new OcspResponder(Ca, new OcspOptions { RevocationPollInterval = TimeSpan.FromMilliseconds(200) });

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapOcspEndpoints(Responder, TimeProvider.System);
        await _app.StartAsync();
        BaseUrl = _app.Urls.Single();
        options.PublicBaseUrl = BaseUrl; // the AIA of every certificate issued below names this server

        await DevelopmentHierarchy.CreateAsync(Ca.Hierarchy, Ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "test");
        var subCa = await Ca.Authorities.GetAsync(MoSubCa);
        WritePem(IssuerPem, subCa.Certificate);
        WritePem(TrustPem, [.. subCa.ChainIncludingSelf]);
    }

    public async Task<(IssuedCertificate Issued, string Pem)> IssueContractAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var emaid = Core.Identifiers.Emaid.Create("DE", "8AA", "C" + RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Normalized;
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid}, O=Test eMSP, C=DE, DC=MO", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var issued = await Ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = MoSubCa, Csr = csr, Actor = "test" });
        var pem = Path.Combine(Dir, $"leaf-{issued.Record.Serial}.pem");
        WritePem(pem, issued.Certificate);
        return (issued, pem);
    }

    public static void WritePem(string path, params X509Certificate[] certs) =>
        File.WriteAllText(path, string.Concat(certs.Select(c => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n")));

    public async Task DisposeAsync()
    {
        if (_app != null) { await _app.StopAsync(); await _app.DisposeAsync(); }
        Responder.Dispose();
        if (_store != null) await _store.DisposeAsync();
        if (_db != null) await _db.DisposeAsync();
        if (_database != null) await _database.DisposeAsync();
        Ca.Keys.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}

/// <summary>openssl and curl as independent clients: exit code and everything they printed.</summary>
internal static class Tool
{
    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)} hung"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
