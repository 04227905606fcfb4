using System.Reflection;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.HighLevelAPI;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// Pkcs11Interop loads modules through <c>[DllImport("libdl")] dlopen</c>. glibc 2.34+ folded libdl into libc and
/// Debian 12 ships only <c>libdl.so.2</c> (the unversioned <c>libdl.so</c> comes with libc6-dev, if at all), so the
/// runtime's probing for "libdl" fails. This resolver maps the name to the versioned file, or to libc where dlopen
/// now lives.
/// </summary>
internal static class LibdlResolution
{
    private static readonly Lazy<bool> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureRegistered() => _ = Registered.Value;

    private static bool Register()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, Resolve);
            return true;
        }
        catch (InvalidOperationException)
        {
            // The host set its own resolver for Pkcs11Interop first; it is then responsible for libdl.
            return false;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "libdl") return IntPtr.Zero;
        foreach (var candidate in new[] { "libdl.so.2", "libdl.so", "libc.so.6" })
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
