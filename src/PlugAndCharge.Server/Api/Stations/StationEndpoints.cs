using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Operator;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api.Stations;

/// <summary>
/// The CPO's OCPP stations: register (security profile 2 with a Basic-auth password the service generates, answers
/// once and keeps only as a keyed hash, or one the operator insists on choosing, kept as a PBKDF2 record and flagged;
/// or 3 with a client certificate), list, show, disable and enable, delete, rotate a profile 2 station's password over
/// OCPP; and the operator commands on a connected station's certificate
/// store (InstallCertificate, GetInstalledCertificateIds, DeleteCertificate, TriggerMessage SignV2GCertificate), each
/// answered with what the station said. A CPO acts on its own stations, the hub operator on any. Registrations,
/// disabling, enabling, deletions, root installations and certificate deletions are written to the CA's audit log
/// (never a password). A command, a disabling or a deletion reaches the station on whichever instance holds its connection (<see cref="ConnectedStations"/>).
/// </summary>
public static class StationEndpoints
{
    /// <param name="Password">
    /// Profile 2, kept for compatibility; leave it out. Without it the service generates the password (at least 128 bits)
    /// and answers it once. A password given here was chosen by a person: it keeps a slow PBKDF2 record and the station
    /// shows passwordChosenBy "operator" until its password is rotated.
    /// </param>
    /// <param name="SerialNumber">The station's serial number: with the station id the only CN its ChargingStationCertificate may carry.</param>
    /// <param name="Certificate">Profile 3: the station's client certificate (PEM), bound to it as its login.</param>
    public sealed record RegisterStation(string? StationId, int? SecurityProfile, string? Password, string? CpoId, string? Organization, string? SerialNumber,
        string? Certificate = null);

    /// <param name="Reason">Optional note shown with the station while it is disabled.</param>
    public sealed record DisableStation(string? Reason);

    /// <summary>The longest reason a disabled station may carry (column ocpp_stations.disabled_reason).</summary>
    private const int MaxDisabledReasonLength = 200;

    public sealed record InstallCertificate(string? CertificateType, string? RootCertificateId, string? Certificate);

    /// <summary>CertificateHashData flat, or wrapped as GetInstalledCertificateIds lists it (<c>{"certificateHashData": {...}}</c>).</summary>
    public sealed record HashData(string? HashAlgorithm, string? IssuerNameHash, string? IssuerKeyHash, string? SerialNumber, HashData? CertificateHashData);

    /// <summary>GetCertificateIdUseEnumType (OEMRootCertificate since OCPP 2.1).</summary>
    private static readonly IReadOnlySet<string> InstalledTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "V2GRootCertificate", "MORootCertificate", "CSMSRootCertificate", "V2GCertificateChain", "ManufacturerRootCertificate", "OEMRootCertificate",
    };

    private static readonly IReadOnlySet<string> HashAlgorithms = new HashSet<string>(StringComparer.Ordinal) { "SHA256", "SHA384", "SHA512" };

    /// <summary>OCPP 2.0.1 BootNotification chargingStation.serialNumber (and 1.6 chargePointSerialNumber): at most 25 characters.</summary>
    private const int MaxSerialNumberLength = 25;

    /// <summary>X.520 ub-organization-name: the O of the station's certificates.</summary>
    private const int MaxOrganizationLength = 64;

    /// <summary>What a command to a station may answer besides the station's own answer: see <see cref="CommandFailed"/>.</summary>
    private static readonly int[] StationCommandProblems = [502, 504];

    /// <param name="SecurityProfile">2 (TLS + HTTP Basic auth) or 3 (mutual TLS).</param>
    /// <param name="SerialNumber">As registered; <paramref name="ReportedSerialNumber"/> as the station last reported it.</param>
    /// <param name="Connected">Connected to any instance of the service.</param>
    /// <param name="OcppVersion">The OCPP subprotocol of the live connection (ocpp1.6, ocpp2.0.1, ocpp2.1).</param>
    /// <param name="PasswordChosenBy">
    /// Profile 2: "service" (generated, kept as a keyed hash) or "operator" (chosen at registration, kept as a slow
    /// PBKDF2 record); null for profile 3 and for a station registered before this was recorded.
    /// </param>
    public record StationView(string StationId, string CpoId, string Organization, int SecurityProfile, string? SerialNumber,
        string? ReportedSerialNumber, string? Vendor, string? Model, string? FirmwareVersion, DateTimeOffset RegisteredAt, DateTimeOffset? LastBootAt,
        bool Connected, string? OcppVersion, bool Disabled, DateTimeOffset? DisabledAt, string? DisabledReason, string? PasswordChosenBy);

    /// <summary>The answer to a registration: the station, and the password the service generated for it.</summary>
    public sealed record RegisteredStation : StationView
    {
        public RegisteredStation(StationView station, string? password = null) : base(station) => Password = password;

        /// <summary>
        /// The generated password (profile 2 without a chosen one), in this answer only: it is never shown again. Configure
        /// it as the station's BasicAuthPassword (OCPP 2.0.1) or, hex-encoded, its AuthorizationKey (1.6). Absent when
        /// the operator chose the password or the station uses profile 3.
        /// </summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public string? Password { get; }
    }

    /// <param name="Status">What the station answered: Accepted or RebootRequired (it has the new password), else what it refused with.</param>
    /// <param name="Changed">Whether the new password is now the station's; the one it replaces logs it in until it reconnects with the new one, at most until <paramref name="PreviousValidUntil"/>.</param>
    public sealed record PasswordRotationView(string StationId, string Status, bool Changed, DateTimeOffset? PreviousValidUntil);

    /// <param name="Sha256">The certificate's SHA-256 fingerprint, lower-case hex.</param>
    public sealed record BoundClientCertificate(string StationId, string Sha256);

    public static IEndpointRouteBuilder MapStationEndpoints(this IEndpointRouteBuilder app)
    {
        var stations = app.MapGroup("/v1/ocpp/stations").RequireAuthorization(ParticipantAuthentication.Policies.Cpo).WithTags("OCPP stations")
            .ProducesProblems(ApiConventions.ParticipantProblems);

        stations.MapPost("/", RegisterAsync)
            .WithSummary("Register an OCPP station (CPO for itself; the hub operator names cpoId). A profile 2 password is generated and answered once; never again");
        stations.MapGet("/", ListAsync).WithSummary("The caller's stations (the hub operator: all, or those of ?cpoId=)");
        stations.MapGet("/{stationId}", GetAsync).WithSummary("A station, whether it is connected, its OCPP version and last boot");
        stations.MapDelete("/{stationId}", DeleteAsync).WithSummary("Delete a station's registration and disconnect it");
        stations.MapPost("/{stationId}/disable", DisableAsync)
            .WithSummary("Disable a station (optional {\"reason\"}): it is disconnected wherever it is connected and may not log in until enabled; its registration, passwords and certificates are kept");
        stations.MapPost("/{stationId}/enable", EnableAsync).WithSummary("Let a disabled station log in again");
        stations.MapPost("/{stationId}/client-certificates", BindClientCertificateAsync)
            .WithSummary("Bind one more client certificate (PEM, CN = the station id, EKU clientAuth) a profile 3 station may log in with");

        stations.MapPost("/{stationId}/password/rotate", RotatePasswordAsync).ProducesProblems(StationCommandProblems)
            .WithSummary("Give a connected profile 2 station a new generated password over OCPP (SetVariables BasicAuthPassword; 1.6 ChangeConfiguration AuthorizationKey)");
        stations.MapPost("/{stationId}/certificates", InstallAsync).ProducesProblems(StationCommandProblems)
            .WithSummary("InstallCertificate: a root from the root certificate pool (rootCertificateId) or a self-signed root (PEM)");
        stations.MapGet("/{stationId}/certificates", InstalledAsync).ProducesProblems(StationCommandProblems)
            .WithSummary("GetInstalledCertificateIds (?type=V2GRootCertificate&type=...; none = all)");
        stations.MapDelete("/{stationId}/certificates", DeleteCertificateAsync).ProducesProblems(StationCommandProblems)
            .WithSummary("DeleteCertificate by CertificateHashData (JSON body, or query hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber)");
        stations.MapPost("/{stationId}/trigger/sign-v2g-certificate", TriggerAsync).ProducesProblems(StationCommandProblems)
            .WithSummary("TriggerMessage SignV2GCertificate: the station asks for a new V2G (SECC) certificate");
        return app;
    }

    private static async Task<Results<Created<RegisteredStation>, ProblemHttpResult>> RegisterAsync(RegisterStation body, HttpContext http, IStationStore store,
        IParticipantStore participants, ConnectedStations connected, StationPasswords passwords, IAuditLog audit, TimeProvider clock)
    {
        var me = http.User.Participant()!;
        if (!StationIds.IsValid(body.StationId))
            return Problems.BadRequest($"stationId must be 1-{StationIds.MaxLength} printable ASCII characters without ':' or '/'.");
        SecurityProfile? profile = body.SecurityProfile switch
        {
            2 => SecurityProfile.TlsWithBasicAuth,
            3 => SecurityProfile.TlsWithClientCertificate,
            _ => null,
        };
        if (profile == null) return Problems.BadRequest("securityProfile must be 2 (TLS + HTTP Basic auth) or 3 (mutual TLS).");

        StationPasswordOrigin? chosenBy = null;
        if (profile == SecurityProfile.TlsWithBasicAuth)
        {
            chosenBy = body.Password == null ? StationPasswordOrigin.Service : StationPasswordOrigin.Operator;
            if (body.Password is { } password && (password.Length < StationPassword.MinLength || password.Length > StationPassword.MaxLength))
                return Problems.BadRequest($"A chosen password has {StationPassword.MinLength} to {StationPassword.MaxLength} characters (OCPP BasicAuthPassword); leave it out and the service generates one.");
            if (body.Password?.Any(char.IsControl) == true) return Problems.BadRequest("The password must not contain control characters.");
        }
        else if (body.Password != null)
        {
            return Problems.BadRequest("password belongs to security profile 2; a profile 3 station authenticates with its client certificate.");
        }

        // Profile 3 logs in only with a certificate bound to the station (issue 21): the one registered here, or one it
        // later gets through SignCertificate. Its chain and revocation are checked at every login.
        Org.BouncyCastle.X509.X509Certificate? clientCertificate = null;
        if (body.Certificate != null)
        {
            if (profile != SecurityProfile.TlsWithClientCertificate) return Problems.BadRequest("certificate belongs to security profile 3.");
            (clientCertificate, var invalid) = ReadClientCertificate(body.Certificate, body.StationId!);
            if (invalid != null) return invalid;
        }

        if (body.SerialNumber is { } serial && (serial.Length is 0 or > MaxSerialNumberLength || serial.Any(char.IsControl)))
            return Problems.BadRequest($"serialNumber has 1 to {MaxSerialNumberLength} characters (OCPP chargingStation.serialNumber).");

        string cpoId;
        if (me.IsAdmin)
        {
            if (string.IsNullOrWhiteSpace(body.CpoId)) return Problems.BadRequest("cpoId is required when the hub operator registers a station.");
            cpoId = body.CpoId;
        }
        else
        {
            if (body.CpoId != null && body.CpoId != me.Id) return Problems.Forbidden("A CPO registers stations for itself only: leave cpoId out or give your own participant id.");
            cpoId = me.Id;
        }
        var cpo = await participants.GetAsync(cpoId, http.RequestAborted);
        if (cpo == null) return Problems.BadRequest($"cpoId '{cpoId}' is not a participant.");
        if (cpo.Role != ParticipantRole.Cpo) return Problems.BadRequest($"Participant '{cpoId}' is not a CPO.");
        if (cpo.Disabled) return Problems.BadRequest($"Participant '{cpoId}' is disabled.");

        // SignCertificate requires O = the CPO's organization; a CPO may not give its stations another company's name.
        var registered = cpo.Organization ?? cpo.Name;
        var organization = body.Organization?.Trim() ?? registered;
        if (organization.Length is 0 or > MaxOrganizationLength || organization.Any(char.IsControl))
            return Problems.BadRequest($"organization has 1 to {MaxOrganizationLength} characters.");
        if (!me.IsAdmin && organization != registered)
            return Problems.Forbidden($"Your stations carry your registered organization ('{registered}'); only the hub operator may register another.");

        // Hashed only once everything else is known to be acceptable (PBKDF2 costs 50 ms).
        var generated = chosenBy == StationPasswordOrigin.Service ? StationPasswords.Generate() : null;
        var station = new StationRecord
        {
            StationId = body.StationId!, CpoId = cpoId, CpoOrganization = organization, SecurityProfile = profile.Value,
            PasswordHash = chosenBy switch
            {
                StationPasswordOrigin.Service => passwords.RecordOfGenerated(body.StationId!, generated!),
                StationPasswordOrigin.Operator => StationPasswords.RecordOfChosen(body.Password!),
                _ => null,
            },
            PasswordChosenBy = chosenBy, SerialNumber = body.SerialNumber, RegisteredAt = clock.GetUtcNow(),
        };
        if (!await store.AddAsync(station, http.RequestAborted))
            return Problems.Conflict($"Station '{station.StationId}' is already registered.");
        if (clientCertificate != null)
            await store.AddClientCertificateAsync(new StationClientCertificate
            {
                StationId = station.StationId, Sha256 = StationClientCertificate.Fingerprint(clientCertificate.GetEncoded()), CpoId = cpoId,
                Origin = StationCertificateOrigin.Registered, NotAfter = new DateTimeOffset(clientCertificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            }, http.RequestAborted);
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.register", Subject(station.StationId), new Dictionary<string, string>
        {
            ["cpo"] = cpoId, ["organization"] = organization, ["securityProfile"] = ((int)station.SecurityProfile).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["serialNumber"] = station.SerialNumber ?? "", ["passwordChosenBy"] = ChosenBy(station.PasswordChosenBy) ?? "",
            ["clientCertificate"] = clientCertificate == null ? "" : StationClientCertificate.Fingerprint(clientCertificate.GetEncoded()),
        }), CancellationToken.None);
        return TypedResults.Created($"/v1/ocpp/stations/{Uri.EscapeDataString(station.StationId)}", new RegisteredStation(View(station, connected), generated));
    }

    public sealed record BindClientCertificate(string? Certificate);

    /// <summary>
    /// Binds one more client certificate to a profile 3 station of the caller (a renewal from the CPO's own CA): the
    /// station may then log in with it. Only the station's CPO (or the operator) binds, and only a certificate named for
    /// the station with EKU clientAuth; its chain and revocation are checked at every login.
    /// </summary>
    private static async Task<Results<Created<BoundClientCertificate>, ProblemHttpResult>> BindClientCertificateAsync(string stationId,
        BindClientCertificate body, HttpContext http, IStationStore store, IAuditLog audit)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        if (station!.SecurityProfile != SecurityProfile.TlsWithClientCertificate)
            return Problems.BadRequest($"Station '{station.StationId}' uses security profile 2; client certificates log in profile 3 stations only.");
        if (body.Certificate == null) return Problems.BadRequest("certificate (PEM) is required.");
        var (certificate, invalid) = ReadClientCertificate(body.Certificate, station.StationId);
        if (invalid != null) return invalid;
        var fingerprint = StationClientCertificate.Fingerprint(certificate!.GetEncoded());
        if (!await store.AddClientCertificateAsync(new StationClientCertificate
            {
                StationId = station.StationId, Sha256 = fingerprint, CpoId = station.CpoId, Origin = StationCertificateOrigin.Registered,
                NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            }, http.RequestAborted))
            return Problems.NotFound($"No station '{stationId}'.");
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.bind-certificate", Subject(station.StationId), new Dictionary<string, string>
        {
            ["cpo"] = station.CpoId, ["clientCertificate"] = fingerprint,
        }), CancellationToken.None);
        return TypedResults.Created($"/v1/ocpp/stations/{Uri.EscapeDataString(station.StationId)}", new BoundClientCertificate(station.StationId, fingerprint));
    }

    /// <summary>A profile 3 login certificate as a CPO hands it in: one certificate, CN = the station id, EKU clientAuth.</summary>
    private static (Org.BouncyCastle.X509.X509Certificate? Certificate, ProblemHttpResult? Refusal) ReadClientCertificate(string pem, string stationId)
    {
        Org.BouncyCastle.X509.X509Certificate? certificate;
        var der = Pem.DecodeOne(pem, "CERTIFICATE");
        try { certificate = der is { Length: > 0 } ? PlugAndCharge.Pki.Validation.CertificateReader.ReadCertificate(der) : null; }
        catch (Exception e) when (e is PkiException or ArgumentException or Org.BouncyCastle.Security.Certificates.CertificateException) { certificate = null; }
        if (certificate == null) return (null, Problems.BadRequest("certificate must be one PEM (or base64 DER) certificate."));
        if (PlugAndCharge.Pki.X509.DistinguishedNames.CommonName(certificate.SubjectDN) != stationId)
            return (null, Problems.BadRequest("The certificate's CN must be the station id (OCPP security profile 3)."));
        if (certificate.GetExtendedKeyUsage()?.Contains(Org.BouncyCastle.Asn1.X509.KeyPurposeID.id_kp_clientAuth) != true)
            return (null, Problems.BadRequest("The certificate must be a client certificate (EKU clientAuth)."));
        return (certificate, null);
    }

    private static async Task<Results<Ok<List<StationView>>, ProblemHttpResult>> ListAsync(HttpContext http, IStationStore store, ConnectedStations connected,
        [FromQuery] string? cpoId)
    {
        var me = http.User.Participant()!;
        if (!me.IsAdmin)
        {
            if (cpoId != null && cpoId != me.Id) return Problems.Forbidden("A CPO lists its own stations only.");
            cpoId = me.Id;
        }
        var list = await store.ListAsync(cpoId, http.RequestAborted);
        // Connected to any instance: one look-up for the whole list.
        var versions = await connected.ConnectedVersionsAsync(list.Select(s => s.StationId).ToList(), http.RequestAborted);
        return TypedResults.Ok(list.Select(s => View(s, versions.TryGetValue(s.StationId, out var v) ? v : null)).ToList());
    }

    private static async Task<Results<Ok<StationView>, ProblemHttpResult>> GetAsync(string stationId, HttpContext http, IStationStore store,
        ConnectedStations connected)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        // One station: whether it is connected to any instance.
        var at = await connected.LocateAsync(station!.StationId, http.RequestAborted);
        return TypedResults.Ok(View(station, at?.Version));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string stationId, HttpContext http, IStationStore store,
        ConnectedStations connected, IAuditLog audit)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        if (!await store.DeleteAsync(station!.StationId, http.RequestAborted)) return Problems.NotFound($"No station '{stationId}'.");
        // From here on the station can no longer authenticate; a live connection is ended too, on whichever instance holds it.
        var wasConnected = await connected.DisconnectAsync(station.StationId, "The station's registration was deleted.", CancellationToken.None);
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.delete", Subject(station.StationId), new Dictionary<string, string>
        {
            ["cpo"] = station.CpoId, ["disconnected"] = wasConnected ? "true" : "false",
        }), CancellationToken.None);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<StationView>, ProblemHttpResult>> DisableAsync(string stationId, HttpContext http, IStationStore store,
        ConnectedStations connected, IAuditLog audit, TimeProvider clock)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        DisableStation? body = null;
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try { body = await http.Request.ReadFromJsonAsync<DisableStation>(http.RequestAborted); }
            catch (JsonException) { return Problems.BadRequest("The body is not a JSON object {\"reason\": \"...\"}."); }
            catch (InvalidOperationException) { return Problems.BadRequest("The body must be JSON (Content-Type: application/json)."); }
        }
        var reason = string.IsNullOrWhiteSpace(body?.Reason) ? null : body.Reason.Trim();
        if (reason != null && (reason.Length > MaxDisabledReasonLength || reason.Any(char.IsControl)))
            return Problems.BadRequest($"reason has at most {MaxDisabledReasonLength} characters and no control characters.");
        var disabled = await store.DisableAsync(station!.StationId, clock.GetUtcNow(), reason, http.RequestAborted);
        if (disabled == null) return Problems.NotFound($"No station '{stationId}'.");
        // Recorded first, so the login check refuses it everywhere; then its live connection ends, on whichever instance holds it.
        var wasConnected = await connected.DisconnectAsync(station.StationId, "The station was disabled by its operator.", CancellationToken.None);
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.disable", Subject(station.StationId), new Dictionary<string, string>
        {
            ["cpo"] = station.CpoId, ["reason"] = reason ?? "", ["disconnected"] = wasConnected ? "true" : "false",
        }), CancellationToken.None);
        return TypedResults.Ok(View(disabled, (OcppVersion?)null));
    }

    private static async Task<Results<Ok<StationView>, ProblemHttpResult>> EnableAsync(string stationId, HttpContext http, IStationStore store,
        ConnectedStations connected, IAuditLog audit)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        var enabled = await store.EnableAsync(station!.StationId, http.RequestAborted);
        if (enabled == null) return Problems.NotFound($"No station '{stationId}'.");
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.enable", Subject(station.StationId), new Dictionary<string, string>
        {
            ["cpo"] = station.CpoId, ["wasDisabledSince"] = station.DisabledAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "",
        }), CancellationToken.None);
        var at = await connected.LocateAsync(enabled.StationId, http.RequestAborted);
        return TypedResults.Ok(View(enabled, at?.Version));
    }

    private static async Task<Results<Ok<InstallCertificateResponse>, ProblemHttpResult>> InstallAsync(string stationId, InstallCertificate body,
        HttpContext http, IStationStore store, StationCertificateCommands commands, RootCertificatePool roots, IAuditLog audit)
    {
        if ((await CommandableStationAsync(stationId, http, store)).Refusal is { } refusal) return refusal;
        if ((body.RootCertificateId == null) == (body.Certificate == null))
            return Problems.BadRequest("Give either rootCertificateId (a root of the root certificate pool) or certificate (a PEM root), not both.");

        string? type = body.CertificateType;
        byte[] der;
        if (body.RootCertificateId != null)
        {
            if (!Guid.TryParse(body.RootCertificateId, out var rootId)) return Problems.BadRequest("rootCertificateId is not a UUID.");
            RootCertificate root;
            try { root = await roots.GetAsync(rootId, http.RequestAborted); }
            catch (ContractException e) when (e.Error == ContractError.UnknownRoot) { return Problems.BadRequest($"rootCertificateId {rootId} is not in the root certificate pool."); }
            var poolType = root.Type switch
            {
                RootType.V2G => "V2GRootCertificate",
                RootType.MO => "MORootCertificate",
                RootType.OEM => "OEMRootCertificate",
                _ => null,
            };
            if (type == null) type = poolType;
            else if (poolType != null && type != poolType)
                return Problems.BadRequest($"Root {rootId} is a {root.Type} root of the pool; install it as {poolType}, not {type}.");
            der = root.Der;
        }
        else
        {
            der = Pem.DecodeOne(body.Certificate, "CERTIFICATE") ?? [];
            if (der.Length == 0) return Problems.BadRequest("certificate must be one PEM (or base64 DER) certificate.");
        }
        if (type == null || !StationCertificateCommands.RootTypes.Contains(type))
            return Problems.BadRequest($"certificateType must be one of {string.Join(", ", StationCertificateCommands.RootTypes)}.");

        var pem = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", der);
        InstallCertificateResponse answer;
        try { answer = await commands.InstallCertificateAsync(stationId, type, pem, http.RequestAborted); }
        catch (ArgumentException e) { return Problems.BadRequest(e.Message); }
        catch (StationCommandException e) { return CommandFailed(stationId, e); }
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.certificate.install", Subject(stationId), new Dictionary<string, string>
        {
            ["certificateType"] = type, ["fingerprint"] = Convert.ToHexStringLower(SHA256.HashData(der)), ["rootCertificateId"] = body.RootCertificateId ?? "",
            ["status"] = answer.Status,
        }), CancellationToken.None);
        return TypedResults.Ok(answer);
    }

    private static async Task<Results<Ok<GetInstalledCertificateIdsResponse>, ProblemHttpResult>> InstalledAsync(string stationId, HttpContext http,
        IStationStore store, StationCertificateCommands commands, [FromQuery(Name = "type")] string[]? types)
    {
        if ((await CommandableStationAsync(stationId, http, store)).Refusal is { } refusal) return refusal;
        var wanted = (types ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();
        if (wanted.FirstOrDefault(t => !InstalledTypes.Contains(t)) is { } unknown)
            return Problems.BadRequest($"type '{unknown}' is not one of {string.Join(", ", InstalledTypes)}.");
        try { return TypedResults.Ok(await commands.GetInstalledCertificateIdsAsync(stationId, wanted, http.RequestAborted)); }
        catch (ArgumentException e) { return Problems.BadRequest(e.Message); }
        catch (StationCommandException e) { return CommandFailed(stationId, e); }
    }

    private static async Task<Results<Ok<DeleteCertificateResponse>, ProblemHttpResult>> DeleteCertificateAsync(string stationId, HttpContext http,
        IStationStore store, StationCertificateCommands commands, IAuditLog audit)
    {
        if ((await CommandableStationAsync(stationId, http, store)).Refusal is { } refusal) return refusal;
        HashData? given;
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try { given = await http.Request.ReadFromJsonAsync<HashData>(http.RequestAborted); }
            catch (JsonException) { return Problems.BadRequest("The body is not a CertificateHashData JSON object."); }
            catch (InvalidOperationException) { return Problems.BadRequest("The body must be JSON (Content-Type: application/json)."); }
            given = given?.CertificateHashData ?? given;
        }
        else
        {
            var q = http.Request.Query;
            given = new HashData(q["hashAlgorithm"], q["issuerNameHash"], q["issuerKeyHash"], q["serialNumber"], null);
        }
        if (Validate(given) is { } problem) return Problems.BadRequest(problem);
        var hash = new CertificateHashData(given!.HashAlgorithm!, given.IssuerNameHash!, given.IssuerKeyHash!, given.SerialNumber!);

        DeleteCertificateResponse answer;
        try { answer = await commands.DeleteCertificateAsync(stationId, hash, http.RequestAborted); }
        catch (StationCommandException e) { return CommandFailed(stationId, e); }
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.certificate.delete", Subject(stationId), new Dictionary<string, string>
        {
            ["hashAlgorithm"] = hash.HashAlgorithm, ["issuerNameHash"] = hash.IssuerNameHash, ["issuerKeyHash"] = hash.IssuerKeyHash,
            ["serialNumber"] = hash.SerialNumber, ["status"] = answer.Status,
        }), CancellationToken.None);
        return TypedResults.Ok(answer);
    }

    /// <summary>
    /// A new generated password for a connected profile 2 station, sent over OCPP (A01) and stored once the station has
    /// it. Audited with the station's answer, never the password. A station that did not answer may have taken it: the
    /// new record is stored all the same (the old one stays valid for the window) and the answer is 502/504.
    /// </summary>
    private static async Task<Results<Ok<PasswordRotationView>, ProblemHttpResult>> RotatePasswordAsync(string stationId, HttpContext http,
        IStationStore store, StationPasswordCommands commands, IAuditLog audit)
    {
        var (station, refusal) = await CommandableStationAsync(stationId, http, store);
        if (refusal != null) return refusal;
        if (station!.SecurityProfile != SecurityProfile.TlsWithBasicAuth)
            return Problems.BadRequest($"Station '{stationId}' uses security profile 3: it logs in with its client certificate, not a password.");
        PasswordRotation rotation;
        try { rotation = await commands.RotateAsync(stationId, http.RequestAborted); }
        catch (StationCommandException e) { return CommandFailed(stationId, e); }
        await audit.AppendAsync(new AuditEvent(Scopes.Actor(http), "ocpp.station.password.rotate", Subject(stationId), new Dictionary<string, string>
        {
            ["cpo"] = station.CpoId, ["status"] = rotation.Status ?? rotation.Failure?.Failure.ToString() ?? "", ["changed"] = rotation.Stored ? "true" : "false",
        }), CancellationToken.None);
        if (rotation.Failure is { } failure) return CommandFailed(stationId, failure);
        return TypedResults.Ok(new PasswordRotationView(stationId, rotation.Status!, rotation.Stored, rotation.PreviousValidUntil));
    }

    private static async Task<Results<Ok<TriggerMessageResponse>, ProblemHttpResult>> TriggerAsync(string stationId, HttpContext http, IStationStore store,
        StationCertificateCommands commands)
    {
        if ((await CommandableStationAsync(stationId, http, store)).Refusal is { } refusal) return refusal;
        try { return TypedResults.Ok(await commands.TriggerSignV2GCertificateAsync(stationId, http.RequestAborted)); }
        catch (StationCommandException e) { return CommandFailed(stationId, e); }
    }

    /// <summary>
    /// <see cref="OwnStationAsync"/> for an operator command: a disabled station is answered as one connected nowhere
    /// (409), also in the moment before its connection has ended.
    /// </summary>
    private static async Task<(StationRecord? Station, ProblemHttpResult? Refusal)> CommandableStationAsync(string stationId, HttpContext http, IStationStore store)
    {
        var (station, refusal) = await OwnStationAsync(stationId, http, store);
        if (refusal != null) return (null, refusal);
        return station!.Disabled
            ? (null, CommandFailed(stationId, new StationCommandException($"Station '{stationId}' is disabled.", null, StationCommandFailure.Offline)))
            : (station, null);
    }

    /// <summary>The station when it exists (404) and the caller is its CPO or the hub operator (403).</summary>
    private static async Task<(StationRecord? Station, ProblemHttpResult? Refusal)> OwnStationAsync(string stationId, HttpContext http, IStationStore store)
    {
        var station = StationIds.IsValid(stationId) ? await store.FindAsync(stationId, http.RequestAborted) : null;
        if (station == null) return (null, Problems.NotFound($"No station '{stationId}'."));
        var me = http.User.Participant()!;
        if (!me.IsAdmin && station.CpoId != me.Id) return (null, Problems.Forbidden($"Station '{stationId}' belongs to another CPO."));
        return (station, null);
    }

    private static string? Validate(HashData? h)
    {
        if (h == null) return "CertificateHashData is required: hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber.";
        if (h.HashAlgorithm == null || !HashAlgorithms.Contains(h.HashAlgorithm)) return "hashAlgorithm must be SHA256, SHA384 or SHA512.";
        if (!IsHex(h.IssuerNameHash, 128)) return "issuerNameHash must be hex, at most 128 characters.";
        if (!IsHex(h.IssuerKeyHash, 128)) return "issuerKeyHash must be hex, at most 128 characters.";
        if (!IsHex(h.SerialNumber, 40)) return "serialNumber must be hex, at most 40 characters.";
        return null;
    }

    private static bool IsHex(string? s, int max) => !string.IsNullOrEmpty(s) && s.Length <= max && s.All(char.IsAsciiHexDigit);

    private static ProblemHttpResult CommandFailed(string stationId, StationCommandException e) => e.Failure switch
    {
        StationCommandFailure.Offline => TypedResults.Problem(statusCode: 409, title: "Station offline",
            detail: $"Station '{stationId}' is not connected, so it cannot be sent the command; try again once it is online."),
        StationCommandFailure.TimedOut => TypedResults.Problem(statusCode: 504, title: "Station did not answer", detail: e.Message),
        StationCommandFailure.Disconnected => TypedResults.Problem(statusCode: 502, title: "Station went away", detail: e.Message),
        StationCommandFailure.Unavailable => TypedResults.Problem(statusCode: 503, title: "Station directory unavailable", detail: e.Message),
        _ => TypedResults.Problem(statusCode: 502, title: "Station refused the command", detail: e.Message),
    };

    private static string Subject(string stationId) => "ocpp-station/" + stationId;

    /// <summary>Right after registration: a new station cannot have connected yet, here or anywhere.</summary>
    private static StationView View(StationRecord s, ConnectedStations connected) => View(s, connected.Find(s.StationId)?.Version);

    private static StationView View(StationRecord s, OcppVersion? version) => new(s.StationId, s.CpoId, s.CpoOrganization, (int)s.SecurityProfile,
        s.SerialNumber, s.ReportedSerialNumber, s.Vendor, s.Model, s.FirmwareVersion, s.RegisteredAt, s.LastBootAt, version != null, version?.SubProtocol(),
        s.Disabled, s.DisabledAt, s.DisabledReason, ChosenBy(s.PasswordChosenBy));

    private static string? ChosenBy(StationPasswordOrigin? origin) => origin switch
    {
        StationPasswordOrigin.Service => "service",
        StationPasswordOrigin.Operator => "operator",
        _ => null,
    };
}
