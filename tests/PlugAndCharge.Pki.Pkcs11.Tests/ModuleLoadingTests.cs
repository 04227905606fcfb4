using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Xunit;

namespace PlugAndCharge.Pki.Pkcs11.Tests;

public class ModuleLoadingTests
{
    [Fact]
    public void The_SoftHSM_module_loads_through_Pkcs11Interop_and_finds_the_token()
    {
        var token = Pkcs11Module.Load(SoftHsm.ModulePath).Token(SoftHsm.Token, _ => SoftHsm.UserPin, 8);
        Assert.Equal(SoftHsm.Token, token.Label);
        Assert.True(token.Supports(CKM.CKM_EC_KEY_PAIR_GEN));
        Assert.True(token.Supports(CKM.CKM_ECDSA));
    }

    [Fact]
    public void Without_the_resolver_the_name_libdl_does_not_resolve_where_only_libdl_so_2_exists()
    {
        // The situation the resolver exists for (Debian 12): probing "libdl" from an assembly without a resolver.
        var unversioned = new[] { "/usr/lib/x86_64-linux-gnu/libdl.so", "/lib/x86_64-linux-gnu/libdl.so", "/usr/lib/aarch64-linux-gnu/libdl.so", "/usr/lib/libdl.so", "/lib/libdl.so" };
        if (!OperatingSystem.IsLinux() || unversioned.Any(File.Exists)) return;
        Assert.False(NativeLibrary.TryLoad("libdl", typeof(ModuleLoadingTests).Assembly, null, out _));
        Assert.True(NativeLibrary.TryLoad("libdl.so.2", out _));
    }

    [Fact]
    public void A_missing_module_or_token_is_a_clear_provider_error()
    {
        var e = Assert.Throws<PkiException>(() => Pkcs11Module.Load("/nonexistent/libnothing.so"));
        Assert.Equal(PkiError.KeyProviderUnavailable, e.Error);
        var t = Assert.Throws<PkiException>(() => Pkcs11Module.Load(SoftHsm.ModulePath).Token("no-such-token", _ => "x", 1));
        Assert.Equal(PkiError.KeyProviderUnavailable, t.Error);
        Assert.Contains("no-such-token", t.Message);
        Assert.Contains(SoftHsm.Token, t.Message);
    }
}
