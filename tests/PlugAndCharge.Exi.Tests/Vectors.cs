using System.Text.Json;

namespace PlugAndCharge.Exi.Tests;

/// <summary>The vendored test vectors under tests/vectors (each set has a SOURCE.md).</summary>
internal static class Vectors
{
    public static string Dir => PlugAndCharge.Tests.TestPaths.Vector("");

    public static string PathOf(string relative) => System.IO.Path.Combine(Dir, relative);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(PathOf(relative));

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    public static byte[] Hex(string relative) => Convert.FromHexString(Text(relative).Trim());

    public static byte[] HubjectRequest => Bytes("hubject_opcp/ccp_certificateInstallationReq_b778d3ffc6aa.exi");

    public static byte[] HubjectFailedResponse => Convert.FromBase64String(Text("hubject_opcp/ccp_certificateInstallationRes_failed_example.b64").Trim());

    public static string RiseXml => Text("rise_v2g_signature_testdata/CertificateInstallationRes-MsgBody-namespace.xml");

    public static JsonElement RiseJson => JsonDocument.Parse(Text("rise_v2g_signature_testdata/signature_vectors.json")).RootElement;
}
