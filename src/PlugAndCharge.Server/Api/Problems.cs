using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Diagnostics;
using PlugAndCharge.Pki;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Api;

/// <summary>ProblemDetails (RFC 9457) for every refusal, and the mapping of domain errors to HTTP statuses.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(statusCode: 400, title: "Bad request", detail: detail);
    public static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: detail);
    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(statusCode: 404, title: "Not found", detail: detail);
    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(statusCode: 409, title: "Conflict", detail: detail);
    public static ProblemHttpResult NotImplemented(string detail) => TypedResults.Problem(statusCode: 501, title: "Not implemented", detail: detail);

    /// <summary>
    /// Domain exceptions become 4xx problem details; the database being unreachable, restarting, or refusing to wait
    /// (a statement or lock timeout, StorageDataSource) becomes 503 with Retry-After (RFC 9110 §15.6.4, §10.2.3), so
    /// clients retry instead of treating a passing fault as a bug; anything else stays a 500 with no internals.
    /// </summary>
    public static async ValueTask<bool> TryWriteAsync(HttpContext http, Exception e)
    {
        if (Storage.PostgresFaults.IsUnavailable(e))
        {
            http.Response.StatusCode = 503;
            http.Response.Headers.RetryAfter = "1";
            await Results.Problem(statusCode: 503, title: "Service temporarily unavailable",
                detail: "The database did not answer in time or is restarting; retry shortly.").ExecuteAsync(http);
            return true;
        }
        (int Status, string Title)? mapped = e switch
        {
            ParticipantException p => p.Error switch
            {
                ParticipantError.AlreadyExists => (409, "Conflict"),
                ParticipantError.UnknownParticipant or ParticipantError.UnknownCredential => (404, "Not found"),
                _ => (400, "Bad request"),
            },
            PkiException p => p.Error switch
            {
                PkiError.UnknownCa or PkiError.UnknownCertificate or PkiError.UnknownProfile => (404, "Not found"),
                PkiError.AlreadyExists => (409, "Conflict"),
                PkiError.KeyProviderUnavailable or PkiError.KeyNotFound => (503, "Signing unavailable"),
                _ => (400, "Request refused by the CA"),
            },
            PlugAndCharge.Contracts.ContractException c => c.Error switch
            {
                PlugAndCharge.Contracts.ContractError.Malformed => (400, "Bad request"),
                PlugAndCharge.Contracts.ContractError.NotOwner or PlugAndCharge.Contracts.ContractError.WmiNotAllowed or PlugAndCharge.Contracts.ContractError.ProviderNotAllowed => (403, "Forbidden"),
                PlugAndCharge.Contracts.ContractError.AlreadyExists or PlugAndCharge.Contracts.ContractError.ContractTerminated or PlugAndCharge.Contracts.ContractError.DefaultHeldByOther => (409, "Conflict"),
                PlugAndCharge.Contracts.ContractError.KeyEncryptionKeyMissing => (503, "Contract keys unavailable"),
                var unknown when unknown.ToString().StartsWith("Unknown", StringComparison.Ordinal) => (404, "Not found"),
                _ => (422, "Refused"),
            },
            BadHttpRequestException b => (b.StatusCode, "Bad request"),
            System.Text.Json.JsonException => (400, "Malformed JSON"),
            _ => null,
        };
        if (mapped is not { } m) return false;
        http.Response.StatusCode = m.Status;
        await Results.Problem(statusCode: m.Status, title: m.Title, detail: e.Message).ExecuteAsync(http);
        return true;
    }

    public sealed class Handler : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken) => TryWriteAsync(httpContext, exception);
    }
}
