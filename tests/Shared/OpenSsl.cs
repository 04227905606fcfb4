using System.Diagnostics;
using System.Security.Cryptography;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Tests;

/// <summary>openssl as the independent verifier: every certificate and CRL we emit must satisfy it.</summary>
internal static class OpenSsl
{
    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new TimeoutException("openssl hung"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Fails the test unless <c>openssl verify -x509_strict</c> accepts the leaf under the root.</summary>
    public static void Verify(byte[] rootDer, IReadOnlyList<byte[]> intermediates, byte[] leafDer)
    {
        var dir = TempDir();
        try
        {
            var pem = (byte[] der) => PemEncoding.WriteString("CERTIFICATE", der) + "\n";
            File.WriteAllText(Path.Combine(dir, "root.pem"), pem(rootDer));
            File.WriteAllText(Path.Combine(dir, "untrusted.pem"), string.Concat(intermediates.Select(pem)));
            File.WriteAllText(Path.Combine(dir, "leaf.pem"), pem(leafDer));
            var (code, output) = Run("verify", "-x509_strict", "-CAfile", Path.Combine(dir, "root.pem"), "-untrusted", Path.Combine(dir, "untrusted.pem"), Path.Combine(dir, "leaf.pem"));
            if (code != 0) throw new Xunit.Sdk.XunitException("openssl verify failed: " + output);
        }
        finally { Directory.Delete(dir, true); }
    }

    public static string WritePem(string dir, string name, params X509Certificate[] certs)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, string.Concat(certs.Select(c => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n")));
        return path;
    }

    public static string WriteCrlPem(string dir, string name, params byte[][] crls)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, string.Concat(crls.Select(c => PemEncoding.WriteString("X509 CRL", c) + "\n")));
        return path;
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "pnc-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }
}
