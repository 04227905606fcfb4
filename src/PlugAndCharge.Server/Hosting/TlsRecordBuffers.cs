using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PlugAndCharge.Server.Hosting;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers while they are empty (SSL_MODE_RELEASE_BUFFERS): .NET keeps a
/// read and a write buffer of about 17 KB each for the whole life of every connection, most of what an idle station
/// costs (docs/performance.md, "Connection scale"). .NET has no setting for it, so this finds the OpenSSL SSL of an
/// SslStream through its non-public security context, once the handshake is done and before the connection is used;
/// where that is not found (another platform or runtime) nothing changes. PNC_TLS_RELEASE_BUFFERS=0 turns it off.
/// </summary>
public static class TlsRecordBuffers
{
    private const int SslCtrlMode = 33;             // SSL_CTRL_MODE (openssl/ssl.h)
    private const long SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS

    private delegate long SslCtrl(IntPtr ssl, int cmd, long larg, IntPtr parg);

    private static readonly FieldInfo? SecurityContext = typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance);
    private static readonly SslCtrl? Ctrl = Load();

    /// <summary>True when connections get the mode (Linux, the runtime's fields as expected, libssl.so.3 loaded by the runtime).</summary>
    public static bool Available => Ctrl != null && SecurityContext != null;

    private static SslCtrl? Load()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PNC_TLS_RELEASE_BUFFERS") == "0") return null;
        // The libssl the runtime's System.Security.Cryptography.Native already loaded: the same soname is the same library.
        return NativeLibrary.TryLoad("libssl.so.3", out var lib) && NativeLibrary.TryGetExport(lib, "SSL_ctrl", out var ctrl)
            ? Marshal.GetDelegateForFunctionPointer<SslCtrl>(ctrl)
            : null;
    }

    /// <summary>Sets the mode on the SSL of <paramref name="tls"/>; false when it cannot be reached.</summary>
    public static bool ReleaseWhenIdle(SslStream? tls)
    {
        if (!Available || tls == null || SecurityContext!.GetValue(tls) is not { } context) return false;
        var ssl = context as SafeHandle
            ?? context.GetType().GetProperty("SslContext", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance)?.GetValue(context) as SafeHandle;
        if (ssl == null || ssl.IsInvalid || ssl.GetType().Name != "SafeSslHandle") return false;
        var added = false;
        try
        {
            ssl.DangerousAddRef(ref added);
            Ctrl!(ssl.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero);
            return true;
        }
        finally
        {
            if (added) ssl.DangerousRelease();
        }
    }
}
