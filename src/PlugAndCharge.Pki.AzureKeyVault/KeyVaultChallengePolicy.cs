using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>
/// Key Vault's challenge-based authentication. A request carries a token for the scope the vault last named (the
/// public-cloud scope until then). A 401 with <c>WWW-Authenticate: Bearer authorization="https://login.../TENANT",
/// resource="https://vault.azure.net"</c> (or <c>scope="..."</c>) names the tenant and scope to use: the request is
/// authorized again for them, once, and the answer is remembered per vault host so later requests go right first time.
/// The challenged resource must be a parent domain of the vault host, so a spoofed challenge cannot obtain a token for
/// another service.
/// </summary>
internal sealed class KeyVaultChallengePolicy : BearerTokenAuthenticationPolicy
{
    private readonly ConcurrentDictionary<string, TokenRequestContext> _byHost = new(StringComparer.OrdinalIgnoreCase);

    public KeyVaultChallengePolicy(TokenCredential credential, string defaultScope) : base(credential, defaultScope) { }

    protected override ValueTask AuthorizeRequestAsync(HttpMessage message) =>
        _byHost.TryGetValue(message.Request.Uri.Host ?? "", out var context)
            ? AuthenticateAndAuthorizeRequestAsync(message, WithParent(context, message))
            : base.AuthorizeRequestAsync(message);

    protected override void AuthorizeRequest(HttpMessage message)
    {
        if (_byHost.TryGetValue(message.Request.Uri.Host ?? "", out var context)) AuthenticateAndAuthorizeRequest(message, WithParent(context, message));
        else base.AuthorizeRequest(message);
    }

    protected override async ValueTask<bool> AuthorizeRequestOnChallengeAsync(HttpMessage message)
    {
        var context = ContextFromChallenge(message);
        if (context == null) return await base.AuthorizeRequestOnChallengeAsync(message);
        await AuthenticateAndAuthorizeRequestAsync(message, context.Value);
        return true;
    }

    protected override bool AuthorizeRequestOnChallenge(HttpMessage message)
    {
        var context = ContextFromChallenge(message);
        if (context == null) return base.AuthorizeRequestOnChallenge(message);
        AuthenticateAndAuthorizeRequest(message, context.Value);
        return true;
    }

    private TokenRequestContext? ContextFromChallenge(HttpMessage message)
    {
        if (!message.Response.Headers.TryGetValues("WWW-Authenticate", out var values)) return null;
        var challenge = BearerChallenge.Parse(values);
        // No Bearer challenge, or a CAE claims challenge (insufficient_claims): Azure.Core's own handling applies.
        if (challenge == null || challenge.ContainsKey("claims")) return null;
        challenge.TryGetValue("authorization", out var authority);
        if (authority == null) challenge.TryGetValue("authorization_uri", out authority);
        if (!challenge.TryGetValue("scope", out var scope))
        {
            if (!challenge.TryGetValue("resource", out var resource)) return null;
            scope = resource.TrimEnd('/') + "/.default";
        }
        var host = message.Request.Uri.Host ?? "";
        if (!Uri.TryCreate(scope, UriKind.Absolute, out var scopeUri) || scopeUri.Scheme != Uri.UriSchemeHttps
            || !(host.Equals(scopeUri.Host, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + scopeUri.Host, StringComparison.OrdinalIgnoreCase)))
            throw new ChallengeRefusedException($"The vault at {host} asked for a token for '{scope}', which is not a parent domain of the vault; refusing to send one.");
        string? tenant = null;
        if (authority != null && Uri.TryCreate(authority, UriKind.Absolute, out var authorityUri))
        {
            var segments = authorityUri.AbsolutePath.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length > 0) tenant = segments[0];
        }
        var context = new TokenRequestContext([scope], message.Request.ClientRequestId, null, tenant);
        _byHost[host] = context;
        return context;
    }

    private static TokenRequestContext WithParent(TokenRequestContext c, HttpMessage message) =>
        new(c.Scopes, message.Request.ClientRequestId, c.Claims, c.TenantId);
}

/// <summary>The vault's challenge named a resource the vault cannot stand for.</summary>
internal sealed class ChallengeRefusedException(string message) : Exception(message);
