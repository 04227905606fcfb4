using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>An answer of a hub module: an HTTP status and an OCPI envelope, ready to write.</summary>
public readonly record struct HubAnswer(int HttpStatus, byte[] Body);

/// <summary>Writes the OCPI response envelope {data, status_code, status_message, timestamp} for every hub answer.</summary>
public static class OcpiResponses
{
    public static Task WriteAsync<T>(HttpContext ctx, int ocpiStatus, T? data, JsonTypeInfo<OcpiEnvelope<T>> type, string? message = null, int? httpStatus = null)
    {
        var clock = ctx.RequestServices.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        ctx.Response.StatusCode = httpStatus ?? OcpiStatus.HttpStatusFor(ocpiStatus);
        ctx.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(ctx.Response.Body, new OcpiEnvelope<T>(data, ocpiStatus, message, clock.GetUtcNow()), type, ctx.RequestAborted);
    }

    public static Task WriteStatusAsync(HttpContext ctx, int ocpiStatus, string? message, int? httpStatus = null) =>
        WriteAsync<object>(ctx, ocpiStatus, null, OcpiJsonContext.Default.OcpiEnvelopeObject, message, httpStatus);

    /// <summary>An envelope as bytes, for answers built outside a request (the relay, the OCPP bridge).</summary>
    public static byte[] Envelope<T>(int ocpiStatus, T? data, JsonTypeInfo<OcpiEnvelope<T>> type, string? message, DateTimeOffset now) =>
        JsonSerializer.SerializeToUtf8Bytes(new OcpiEnvelope<T>(data, ocpiStatus, message, now), type);

    public static byte[] StatusEnvelope(int ocpiStatus, string? message, DateTimeOffset now) =>
        Envelope<object>(ocpiStatus, null, OcpiJsonContext.Default.OcpiEnvelopeObject, message, now);
}
