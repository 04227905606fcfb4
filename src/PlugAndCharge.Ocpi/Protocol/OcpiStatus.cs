namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>OCPI status codes (transport and format, §4.1.7 of 2.2.1 / 2.3.0) as the envelope carries them.</summary>
public static class OcpiStatus
{
    public const int Success = 1000;
    public const int ClientError = 2000;
    public const int InvalidParameters = 2001;
    public const int NotEnoughInformation = 2002;
    public const int UnknownLocation = 2003;
    public const int UnknownToken = 2004;
    public const int ServerError = 3000;
    public const int UnableToUseClientApi = 3001;
    public const int UnsupportedVersion = 3002;
    public const int NoMatchingEndpoints = 3003;
    public const int HubError = 4000;
    public const int UnknownReceiver = 4001;
    public const int ForwardTimeout = 4002;
    public const int ReceiverNotConnected = 4003;
    public const int UnknownParty = 4004;

    /// <summary>
    /// The HTTP status a hub answer carries. Client errors map to 4xx (unknown token is HTTP 404 in the tokens module);
    /// server and hub errors are OCPI-level outcomes of a request the hub did accept, so they travel as HTTP 200 with
    /// the code in the envelope, which is what the OpenAPI describes for every operation.
    /// </summary>
    public static int HttpStatusFor(int ocpiStatus) => ocpiStatus switch
    {
        < 2000 => 200,
        UnknownToken or UnknownLocation => 404,
        < 3000 => 400,
        _ => 200,
    };
}
