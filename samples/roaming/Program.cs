using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Samples.Roaming;

// Plays the roaming session against a running service (`pnc up`, which ./run.sh starts first) as the hub operator's
// admin participant, prints the timeline, then keeps the sample eMSP's OCPI platform up until Ctrl-C so its credentials
// and contract can be tried by hand.
//   PlugAndCharge.Samples.Roaming [--http URL] [--https URL] [--credentials DIR]
// DIR holds admin.crt, admin.key and participant-ca.crt, as `pnc up` writes them to PNC_HOME/participants.
var http = Option("--http") ?? "http://127.0.0.1:5080";
var https = Option("--https") ?? "https://127.0.0.1:5443";
var credentials = Option("--credentials") ?? Path.Combine(Environment.GetEnvironmentVariable("PNC_HOME") ?? ".pnc", "participants");
using var stop = new CancellationTokenSource();
// Ctrl-C and SIGTERM end the wait below; the handler only signals, so the eMSP platform is disposed on the main flow.
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; _ = stop.CancelAsync(); });
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _ = stop.CancelAsync(); });

X509Certificate2 admin, participantCa;
try
{
    using (var pem = X509Certificate2.CreateFromPemFile(Path.Combine(credentials, "admin.crt"), Path.Combine(credentials, "admin.key")))
        admin = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    participantCa = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(credentials, "participant-ca.crt"));
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
{
    Console.Error.WriteLine($"No admin credential in {credentials} ({e.Message}): start the service with `pnc up` (or `pnc serve --admin-credential`) first.");
    return 2;
}

Console.WriteLine();
Console.WriteLine("A Plug & Charge roaming session, end to end, over the service's real interfaces:");
RoamingSession session;
try
{
    session = await RoamingScenario.RunAsync(new ServiceConnection(http.TrimEnd('/'), https.TrimEnd('/'), participantCa, admin), new Timeline(Console.Out),
        new ScenarioOptions { CredentialDirectory = credentials }, stop.Token);
}
catch (Exception e) when (e is not OperationCanceledException)
{
    Console.Error.WriteLine($"The roaming scenario failed: {e.Message}");
    Console.Error.WriteLine("The service keeps running; its log and the timeline above show how far it got.");
    return 1;
}
await using (session)
{
    Console.WriteLine();
    Console.WriteLine($"Done: car {session.Pcid} received contract {session.Emaid}, charged ({session.FirstAuthorization}, eMSP said {session.EmspAnswer}), " +
        $"then was refused ({session.SecondAuthorization}) once the eMSP ended the contract; OCSP: {session.OcspStatus}.");
    var ca = Path.Combine(credentials, "participant-ca.crt");
    foreach (var (id, (cert, key)) in session.CredentialFiles)
        Console.WriteLine($"  {id,-14} --cert {cert} --key {key}");
    if (session.CredentialFiles.TryGetValue(new ScenarioOptions().EmspId, out var emsp))
        Console.WriteLine($"  e.g. curl --cacert {ca} --cert {emsp.Cert} --key {emsp.Key} {https.TrimEnd('/')}/v1/contracts/{session.Emaid}");
    Console.WriteLine("The sample eMSP's OCPI platform keeps running; press Ctrl-C to stop.");
    try { await Task.Delay(Timeout.Infinite, stop.Token); }
    catch (OperationCanceledException) { }
}
return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
