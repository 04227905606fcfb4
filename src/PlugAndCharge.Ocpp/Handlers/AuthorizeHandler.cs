using System.Text.Json;
using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.Messages;
using PlugAndCharge.Ocpp.Transport;

namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>Authorize with an eMAID and contract certificate data (OCPP 2.0.1 / 2.1 C07; 1.6 through DataTransfer).</summary>
public sealed class AuthorizeHandler(ContractAuthorizer authorizer) : IOcppHandlerModule
{
    public void Register(OcppDispatcher dispatcher) => dispatcher.Register("Authorize", AuthorizeAsync, OcppVersion.V201, OcppVersion.V21);

    private async ValueTask<object> AuthorizeAsync(OcppCallContext context, JsonElement payload, CancellationToken ct)
    {
        var request = OcppJson.Read<AuthorizeRequest>(payload);
        var hashes = request.Iso15118CertificateHashData?.Select(h => new CertificateHashInput(h.HashAlgorithm, h.IssuerNameHash, h.IssuerKeyHash, h.SerialNumber, h.ResponderUrl)).ToList();
        var decision = await authorizer.AuthorizeAsync(request.IdToken.Token, request.IdToken.Type, request.Certificate, hashes, ct);
        return new AuthorizeResponse(new IdTokenInfo(decision.TokenStatus), decision.CertificateStatus);
    }
}
