using System.Text.Json;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// The credentials module (2.2.1 / 2.3.0 §7): a party holding token A POSTs its credentials with token B, the hub reads
/// the party's versions and endpoints with token B and answers with token C; PUT rotates (new B in, new C out) and
/// DELETE unregisters. Token A stops working at registration and each C at its rotation.
/// </summary>
public sealed class PartyRegistration(PartyDirectory parties, PartyClients clients, HubIdentity hub, ClientInfoPublisher clientInfo, TimeProvider clock, ILogger<PartyRegistration> log)
{
    public async Task<HubAnswer> CurrentAsync(PartyRecord caller, OcpiVersion version, string presentedToken, string hubVersionsUrl, CancellationToken ct) =>
        Ok(await hub.CredentialsForAsync(version, presentedToken, hubVersionsUrl, caller, ct));

    public async Task<HubAnswer> RegisterAsync(PartyRecord caller, OcpiVersion version, byte[] body, string correlationId, string hubVersionsUrl, CancellationToken ct)
    {
        if (caller.IncomingTokenKind != CredentialsTokenKind.A)
            return Status(OcpiStatus.ClientError, "Already registered: use PUT to update the credentials.", 405);
        return await ConnectAsync(caller, version, body, correlationId, hubVersionsUrl, ct);
    }

    public async Task<HubAnswer> UpdateAsync(PartyRecord caller, OcpiVersion version, byte[] body, string correlationId, string hubVersionsUrl, CancellationToken ct)
    {
        if (caller.IncomingTokenKind != CredentialsTokenKind.C)
            return Status(OcpiStatus.ClientError, "Not registered: use POST to register.", 405);
        return await ConnectAsync(caller, version, body, correlationId, hubVersionsUrl, ct);
    }

    public async Task<HubAnswer> UnregisterAsync(PartyRecord caller, CancellationToken ct)
    {
        if (caller.IncomingTokenKind != CredentialsTokenKind.C)
            return Status(OcpiStatus.ClientError, "Not registered.", 405);
        PartyRecord updated;
        try
        {
            updated = await parties.UpdateAsync(caller.Id, p => Unchanged(caller, p) with
            {
                IncomingTokenHash = null, IncomingTokenKind = CredentialsTokenKind.None, OutgoingToken = null, Endpoints = [], Status = PartyStatus.Suspended,
            }, ct);
        }
        catch (Exception e) when (e is OcpiPartyChangedException or OcpiConcurrencyException)
        {
            return Status(OcpiStatus.ClientError, e.Message, 401);
        }
        clientInfo.Publish(updated);
        return Status(OcpiStatus.Success, null, 200);
    }

    private async Task<HubAnswer> ConnectAsync(PartyRecord caller, OcpiVersion version, byte[] body, string correlationId, string hubVersionsUrl, CancellationToken ct)
    {
        Credentials? creds;
        try { creds = JsonSerializer.Deserialize(body, OcpiJsonContext.Default.Credentials); }
        catch (JsonException) { creds = null; }
        if (creds is null || creds.Token is null || creds.Url is null || creds.Roles is null)
            return Status(OcpiStatus.InvalidParameters, "The body is not a Credentials object (token, url and roles are required).");
        if (!CredentialsTokens.IsWellFormed(creds.Token))
            return Status(OcpiStatus.InvalidParameters, "Credentials.token must be 1 to 64 printable ASCII characters.");
        if (!Uri.TryCreate(creds.Url, UriKind.Absolute, out var versionsUri) || versionsUri.Scheme is not ("http" or "https"))
            return Status(OcpiStatus.InvalidParameters, "Credentials.url must be an absolute http(s) URL.");
        if (creds.Roles.Count == 0) return Status(OcpiStatus.InvalidParameters, "Credentials.roles must name at least one role.");

        var roles = new List<PartyRole>();
        foreach (var r in creds.Roles)
        {
            if (r?.Role is null || r.CountryCode is not { Length: 2 } || r.PartyId is not { Length: 3 } || !Roles.IsKnown(r.Role) || r.Role == Roles.Hub)
                return Status(OcpiStatus.InvalidParameters, "Each role needs a role (CPO, EMSP, ...), a 2-letter country_code and a 3-character party_id.");
            // The operator decided which roles this party may hold; a party cannot claim another's identity.
            if (caller.Roles.Count > 0 && !caller.Roles.Any(a => a.Is(r.Role, r.CountryCode, r.PartyId)))
                return Status(OcpiStatus.InvalidParameters, $"Role {r.Role} {r.CountryCode}-{r.PartyId} was not assigned to this party by the hub operator.");
            roles.Add(new PartyRole(r.Role.ToUpperInvariant(), r.CountryCode.ToUpperInvariant(), r.PartyId.ToUpperInvariant(), r.BusinessDetails?.Name));
        }

        // Read the party's versions and this version's endpoints with its token B.
        var probe = caller with { OutgoingToken = creds.Token };
        var client = clients.For(probe);
        var timeout = clients.TimeoutFor(probe);
        var versions = await client.SendAsync(HttpMethod.Get, creds.Url, creds.Token, correlationId, default, ReadOnlyMemory<byte>.Empty, timeout, ct);
        var detailsUrl = ReadVersionUrl(versions, version.ToText());
        if (detailsUrl is null)
        {
            log.LogWarning("Registration of party {Party}: versions endpoint unusable ({Outcome} {Status})", caller.Id, versions.Outcome, versions.HttpStatus);
            return versions.IsSuccess
                ? Status(OcpiStatus.UnsupportedVersion, $"The party's versions endpoint does not offer {version.ToText()}.", 200)
                : Status(OcpiStatus.UnableToUseClientApi, "The party's versions endpoint could not be read with the token it sent.", 200);
        }
        var details = await client.SendAsync(HttpMethod.Get, detailsUrl, creds.Token, correlationId, default, ReadOnlyMemory<byte>.Empty, timeout, ct);
        var endpoints = ReadEndpoints(details);
        if (endpoints is null) return Status(OcpiStatus.UnableToUseClientApi, "The party's version details could not be read.", 200);

        var tokenC = CredentialsTokens.New();
        PartyRecord updated;
        try
        {
            updated = await parties.UpdateAsync(caller.Id, p => Unchanged(caller, p) with
            {
                Roles = roles, Version = version.ToText(), VersionsUrl = creds.Url, OutgoingToken = creds.Token, Endpoints = endpoints,
                IncomingTokenHash = CredentialsTokens.Hash(tokenC), IncomingTokenKind = CredentialsTokenKind.C,
                Status = PartyStatus.Connected, LastSeenAt = clock.GetUtcNow(),
            }, ct);
        }
        catch (OcpiConflictException e)
        {
            return Status(OcpiStatus.InvalidParameters, e.Message);
        }
        catch (Exception e) when (e is OcpiPartyChangedException or OcpiConcurrencyException)
        {
            // The revocation (or suspension) that came while the hub read the party's endpoints wins: nothing is stored.
            log.LogWarning("Credentials of party {Party} changed during its handshake; the handshake is refused", caller.Id);
            return Status(OcpiStatus.ClientError, e.Message, 401);
        }
        log.LogInformation("Party {Party} registered on OCPI {Version} with {Endpoints} endpoints", caller.Id, version.ToText(), endpoints.Count);
        clientInfo.Publish(updated);
        return Ok(await hub.CredentialsForAsync(version, tokenC, hubVersionsUrl, updated, ct));
    }

    /// <summary>
    /// The party as the store holds it now, if it still holds the token the caller authenticated with and is not
    /// suspended; a handshake that outlived a revocation or suspension must not undo it.
    /// </summary>
    private static PartyRecord Unchanged(PartyRecord caller, PartyRecord current) =>
        current.IncomingTokenHash == caller.IncomingTokenHash && current.IncomingTokenKind == caller.IncomingTokenKind && current.Status != PartyStatus.Suspended
            ? current
            : throw new OcpiPartyChangedException("Your credentials were revoked or suspended while the hub handled this request; nothing was changed.");

    private static string? ReadVersionUrl(PartyResponse response, string version)
    {
        if (!response.IsSuccess) return null;
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array) return null;
            foreach (var v in data.EnumerateArray())
                if (v.TryGetProperty("version", out var ver) && ver.GetString() == version && v.TryGetProperty("url", out var url)) return url.GetString();
        }
        catch (JsonException) { }
        return null;
    }

    private static List<PartyEndpoint>? ReadEndpoints(PartyResponse response)
    {
        if (!response.IsSuccess) return null;
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            if (!doc.RootElement.TryGetProperty("data", out var data) || !data.TryGetProperty("endpoints", out var eps) || eps.ValueKind != JsonValueKind.Array) return null;
            var list = new List<PartyEndpoint>();
            foreach (var e in eps.EnumerateArray())
            {
                var id = e.TryGetProperty("identifier", out var i) ? i.GetString() : null;
                var url = e.TryGetProperty("url", out var u) ? u.GetString() : null;
                var role = e.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (id != null && url != null) list.Add(new PartyEndpoint(id, role?.ToUpperInvariant() ?? "", url));
            }
            return list;
        }
        catch (JsonException) { return null; }
    }

    private HubAnswer Ok(Credentials creds) =>
        new(200, OcpiResponses.Envelope(OcpiStatus.Success, creds, OcpiJsonContext.Default.OcpiEnvelopeCredentials, null, clock.GetUtcNow()));

    private HubAnswer Status(int status, string? message, int? http = null) =>
        new(http ?? OcpiStatus.HttpStatusFor(status), OcpiResponses.StatusEnvelope(status, message, clock.GetUtcNow()));
}
