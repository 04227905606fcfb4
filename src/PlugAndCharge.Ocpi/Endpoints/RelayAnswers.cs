using System.Text.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tokens;

namespace PlugAndCharge.Ocpi.Endpoints;

/// <summary>The relay's typed answer written as the OCPI envelope the calling party expects, in its version.</summary>
internal static class RelayAnswers
{
    public static HubAnswer ToHubAnswer(this RelayAnswer answer, OcpiVersion callerVersion, DateTimeOffset now) => answer switch
    {
        RelayAnswer.Decided d => new HubAnswer(200, OcpiResponses.Envelope(OcpiStatus.Success,
            d.Info with { Token = TokenTypeTranslation.ForVersion(d.Info.Token.DeepClone().AsObject(), callerVersion) },
            OcpiJsonContext.Default.OcpiEnvelopeAuthorizationInfo, null, now)),
        RelayAnswer.Refused r => new HubAnswer(OcpiStatus.HttpStatusFor(r.Status), OcpiResponses.StatusEnvelope(r.Status, r.Message, now)),
        RelayAnswer.Relayed e => PassBack(e, callerVersion, now),
        _ => throw new InvalidOperationException(answer.GetType().Name),
    };

    private static HubAnswer PassBack(RelayAnswer.Relayed e, OcpiVersion callerVersion, DateTimeOffset now)
    {
        if (e.Body.Length == 0)
            return e.HttpStatus == 404
                ? new HubAnswer(404, OcpiResponses.StatusEnvelope(OcpiStatus.UnknownToken, "Unknown token.", now))
                : new HubAnswer(e.HttpStatus, OcpiResponses.StatusEnvelope(e.HttpStatus is >= 200 and < 300 ? OcpiStatus.Success : OcpiStatus.ServerError,
                    "The eMSP answered without a body.", now));
        // Same version on both sides: the eMSP's bytes go back untouched (authorization_reference, info, location included).
        if (e.TokenType != TokenTypes.Emaid || e.EmspVersion == callerVersion) return new HubAnswer(e.HttpStatus, e.Body);
        try
        {
            var envelope = JsonNode.Parse(e.Body)?.AsObject();
            if (envelope?["data"] is JsonObject data && data["token"] is JsonObject token)
                TokenTypeTranslation.ForVersion(token, callerVersion);
            return new HubAnswer(e.HttpStatus, envelope is null ? e.Body : JsonSerializer.SerializeToUtf8Bytes(envelope, OcpiJsonContext.Default.JsonObject));
        }
        catch (JsonException)
        {
            return new HubAnswer(e.HttpStatus, e.Body);
        }
    }
}
