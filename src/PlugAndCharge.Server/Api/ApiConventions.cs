using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace PlugAndCharge.Server.Api;

/// <summary>
/// OpenAPI metadata for the answers no handler returns itself: the refusals of authentication and authorization, the
/// domain errors <see cref="Problems.TryWriteAsync"/> maps, and 503 while the database does not answer. Each surface
/// declares the ones it can meet, so /openapi/v1.json lists every status a client may see.
/// </summary>
public static class ApiConventions
{
    /// <summary>What any participant route may answer besides its own results (RFC 9457 problem details).</summary>
    public static readonly int[] ParticipantProblems = [400, 401, 403, 404, 409, 422, 503];

    /// <summary>What a public route reading the database may answer besides its own results.</summary>
    public static readonly int[] PublicProblems = [404, 503];

    /// <summary>Declares <paramref name="statuses"/> as problem details (application/problem+json).</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
        return builder;
    }

    /// <summary>Declares a non-JSON body (certificates, CRLs, PKCS#7, OCSP) with its media type.</summary>
    public static TBuilder ProducesBinary<TBuilder>(this TBuilder builder, int status, string contentType) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(byte[]), [contentType]));
}
