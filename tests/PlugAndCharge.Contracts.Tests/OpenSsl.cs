using System.Diagnostics;

namespace PlugAndCharge.Contracts.Tests;

/// <summary>openssl as the independent verifier.</summary>
internal static class OpenSsl
{
    public static void Verify(byte[] rootDer, IReadOnlyList<byte[]> intermediates, byte[] leafDer)
    {
        var dir = Directory.CreateTempSubdirectory("pnc-contracts-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "root.pem"), Pem(rootDer));
            File.WriteAllText(Path.Combine(dir, "untrusted.pem"), string.Concat(intermediates.Select(Pem)));
            File.WriteAllText(Path.Combine(dir, "leaf.pem"), Pem(leafDer));
            var (code, output) = Run("verify", "-x509_strict", "-CAfile", Path.Combine(dir, "root.pem"), "-untrusted", Path.Combine(dir, "untrusted.pem"), Path.Combine(dir, "leaf.pem"));
            if (code != 0) throw new Xunit.Sdk.XunitException("openssl verify failed: " + output);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static string Pem(byte[] der) => System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", der) + "\n";

    public static (int Code, string Output) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
