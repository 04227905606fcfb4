using System.Buffers;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Ocsp;

namespace PlugAndCharge.Server.Api.Ocsp;

/// <summary>
/// The public OCSP responder of every CA at the URL its certificates' AIA names: POST application/ocsp-request to
/// <c>/ocsp/{caId}</c> and GET <c>/ocsp/{caId}/{base64 request}</c> (RFC 6960 Appendix A, RFC 5019 §5). Every answer,
/// errors included, is an OCSPResponse with HTTP 200 as Appendix A wants, so an OCSP client can always read it; an
/// unknown CA is <c>unauthorized</c> (RFC 5019 §2.2.3: we are not authoritative for it) rather than an HTTP 404 that
/// OCSP clients cannot interpret. The handlers take only the HttpContext: no model binding, no per-request services.
/// </summary>
public static class OcspEndpoints
{
    private const string RequestType = "application/ocsp-request";
    private const string ResponseType = "application/ocsp-response";

    /// <summary>Maps the responder over <paramref name="ca"/>'s stores; it stops with the application.</summary>
    public static IEndpointRouteBuilder MapOcspEndpoints(this IEndpointRouteBuilder app, CertificateAuthorityServices ca, TimeProvider clock, OcspOptions? options = null)
    {
        var responder = new OcspResponder(ca, options, clock);
        app.ServiceProvider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(responder.Dispose);
        return app.MapOcspEndpoints(responder, clock);
    }

    public static IEndpointRouteBuilder MapOcspEndpoints(this IEndpointRouteBuilder app, OcspResponder responder, TimeProvider clock)
    {
        var handler = new Handler(responder, clock, app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("PlugAndCharge.Ocsp"));
        // Mapped as Delegates, not RequestDelegates, so the OpenAPI document lists them with their media types.
        app.MapPost("/ocsp/{caId}", (Func<HttpContext, Task>)handler.PostAsync).WithDisplayName("OCSP POST")
            .Describe("OCSP request, application/ocsp-request body (RFC 6960 Appendix A.1)");
        app.MapGet("/ocsp/{caId}/{**request}", (Func<HttpContext, Task>)handler.GetAsync).WithDisplayName("OCSP GET").Describe("OCSP request, base64 in the URL (RFC 5019 §5)")
            .ProducesBinary(StatusCodes.Status304NotModified, ResponseType);
        app.MapGet("/ocsp/{caId}", (Func<HttpContext, Task>)handler.EmptyGetAsync).WithDisplayName("OCSP GET without request")
            .Describe("Answered malformedRequest");
        return app;
    }

    private static RouteHandlerBuilder Describe(this RouteHandlerBuilder route, string summary) =>
        route.WithTags("OCSP").WithSummary(summary).ProducesBinary(StatusCodes.Status200OK, ResponseType);

    private sealed class Handler(OcspResponder responder, TimeProvider clock, ILogger log)
    {
        private readonly int _max = responder.Options.MaxRequestBytes;
        private readonly PartitionedRateLimiter<string>? _signing = SigningLimiter(responder.Options);

        /// <summary>
        /// Token buckets for answers signed on the spot: one per client address and one for everybody, so a flood of
        /// random serials or nonces from one client (or many) costs bounded signatures and database reads.
        /// </summary>
        private static PartitionedRateLimiter<string>? SigningLimiter(OcspOptions o)
        {
            // Refilled ten times a second (or one token per 1/perSecond s below 10/s); bursts of two seconds' worth.
            static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
            {
                TokenLimit = perSecond * 2, QueueLimit = 0, AutoReplenishment = true,
                TokensPerPeriod = perSecond >= 10 ? perSecond / 10 : 1,
                ReplenishmentPeriod = perSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1.0 / perSecond),
            };
            var limiters = new List<PartitionedRateLimiter<string>>();
            if (o.OnDemandSignaturesPerClientPerSecond > 0)
                limiters.Add(PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => Bucket(o.OnDemandSignaturesPerClientPerSecond))));
            if (o.OnDemandSignaturesPerSecond > 0)
                limiters.Add(PartitionedRateLimiter.Create<string, string>(_ => RateLimitPartition.GetTokenBucketLimiter("all", _ => Bucket(o.OnDemandSignaturesPerSecond))));
            return limiters.Count switch { 0 => null, 1 => limiters[0], _ => PartitionedRateLimiter.CreateChained(limiters.ToArray()) };
        }

        private Func<bool>? MaySign(HttpContext http)
        {
            if (_signing is not { } limiter) return null;
            return () =>
            {
                using var lease = limiter.AttemptAcquire(http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                return lease.IsAcquired;
            };
        }

        public async Task PostAsync(HttpContext http)
        {
            var caId = (string)http.Request.RouteValues["caId"]!;
            // RFC 6960 Appendix A.1: the request is sent as application/ocsp-request; anything else is not a request.
            if (!IsRequestType(http.Request.ContentType) || http.Request.ContentLength > _max)
            {
                await WriteAsync(http, caId, OcspAnswer.Error(OcspResponseStatus.MalformedRequest), false);
                return;
            }
            var reader = http.Request.BodyReader;
            byte[]? rented = null;
            try
            {
                int length;
                while (true)
                {
                    var read = await reader.ReadAsync(http.RequestAborted);
                    if (read.Buffer.Length > _max)
                    {
                        reader.AdvanceTo(read.Buffer.End);
                        await WriteAsync(http, caId, OcspAnswer.Error(OcspResponseStatus.MalformedRequest), false);
                        return;
                    }
                    // Complete once the body has ended or all Content-Length bytes are here (saves a second read).
                    if (read.IsCompleted || read.Buffer.Length == http.Request.ContentLength)
                    {
                        length = (int)read.Buffer.Length;
                        rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                        read.Buffer.CopyTo(rented);
                        reader.AdvanceTo(read.Buffer.End);
                        break;
                    }
                    reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                }
                var answer = await responder.RespondAsync(caId, rented.AsMemory(0, length), http.RequestAborted, MaySign(http));
                await WriteAsync(http, caId, answer, false);
            }
            catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
            {
                await WriteAsync(http, caId, OcspAnswer.Error(OcspResponseStatus.InternalError, e), false);
            }
            finally
            {
                if (rented != null) ArrayPool<byte>.Shared.Return(rented);
            }
        }

        public async Task GetAsync(HttpContext http)
        {
            var caId = (string)http.Request.RouteValues["caId"]!;
            var encoded = EncodedRequest(http, caId);
            var rented = ArrayPool<byte>.Shared.Rent(encoded.Length * 3 / 4 + 4);
            try
            {
                var length = OcspGetEncoding.Decode(encoded, rented);
                var answer = length <= 0 ? OcspAnswer.Error(OcspResponseStatus.MalformedRequest)
                    : await responder.RespondAsync(caId, rented.AsMemory(0, length), http.RequestAborted, MaySign(http));
                await WriteAsync(http, caId, answer, true);
            }
            catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
            {
                await WriteAsync(http, caId, OcspAnswer.Error(OcspResponseStatus.InternalError, e), true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        public Task EmptyGetAsync(HttpContext http) =>
            WriteAsync(http, (string)http.Request.RouteValues["caId"]!, OcspAnswer.Error(OcspResponseStatus.MalformedRequest), true);

        /// <summary>
        /// The request as it came on the wire: routing would already have turned %2F into '/' or not, and '+' may have
        /// become ' ' on the way, so the raw target is decoded here once, by <see cref="OcspGetEncoding"/>.
        /// </summary>
        private static string EncodedRequest(HttpContext http, string caId)
        {
            var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            var query = raw.IndexOf('?');
            if (query >= 0) raw = raw[..query];
            var prefix = "/ocsp/" + caId + "/";
            var at = raw.IndexOf(prefix, StringComparison.Ordinal);
            return at >= 0 ? raw[(at + prefix.Length)..] : (string?)http.Request.RouteValues["request"] ?? "";
        }

        private async Task WriteAsync(HttpContext http, string caId, OcspAnswer answer, bool get)
        {
            if (answer.Failure != null)
                log.LogWarning(answer.Failure, "OCSP request to CA {CaId} answered {Status}", caId, answer.Status);
            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            if (get)
            {
                var headers = response.Headers;
                if (answer.Cached is { } cached)
                {
                    // RFC 5019 §6.2: a cacheable GET answer carries its freshness and identity.
                    var now = clock.GetUtcNow();
                    headers.CacheControl = $"max-age={cached.MaxAgeSeconds(now)}, public, no-transform, must-revalidate";
                    headers.ETag = cached.ETag;
                    headers.LastModified = cached.LastModified;
                    headers.Expires = cached.Expires;
                    if (http.Request.Headers.IfNoneMatch.ToString() == cached.ETag)
                    {
                        response.StatusCode = StatusCodes.Status304NotModified;
                        return;
                    }
                }
                else headers.CacheControl = "no-store"; // signed for this request (nonce) or an error: not for a cache
            }
            response.ContentType = ResponseType;
            response.ContentLength = answer.Der.Length;
            await response.BodyWriter.WriteAsync(answer.Der, http.RequestAborted);
        }

        private static bool IsRequestType(string? contentType)
        {
            if (contentType == null) return false;
            var semicolon = contentType.IndexOf(';');
            var mediaType = (semicolon >= 0 ? contentType.AsSpan(0, semicolon) : contentType.AsSpan()).Trim();
            return mediaType.Equals(RequestType, StringComparison.OrdinalIgnoreCase);
        }
    }
}
