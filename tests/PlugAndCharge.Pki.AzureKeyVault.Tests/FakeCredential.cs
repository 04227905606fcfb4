using System.Collections.Concurrent;
using Azure.Core;
using Azure.Identity;

namespace PlugAndCharge.Pki.AzureKeyVault.Tests;

/// <summary>
/// Stands in for Entra ID: a token names the tenant and scope it was asked for, so the loopback vault can tell a
/// token from the challenge's tenant from a default one. The vault, not the credential, is what these tests test.
/// </summary>
public sealed class FakeCredential(string? forcedTenant = null, bool fail = false) : TokenCredential
{
    private readonly ConcurrentQueue<TokenRequestContext> _requests = new();
    public IReadOnlyList<TokenRequestContext> Requests => [.. _requests];

    public static string TokenFor(string? tenant, string scope) => $"fake.{tenant ?? "home"}.{scope}";

    public override AccessToken GetToken(TokenRequestContext context, CancellationToken ct)
    {
        _requests.Enqueue(context);
        if (fail) throw new AuthenticationFailedException("The test credential refuses to issue tokens.");
        return new AccessToken(TokenFor(forcedTenant ?? context.TenantId, string.Join(" ", context.Scopes)), DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext context, CancellationToken ct) => ValueTask.FromResult(GetToken(context, ct));
}
