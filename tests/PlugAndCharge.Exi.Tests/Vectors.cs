using System.Text.Json;

namespace PlugAndCharge.Exi.Tests;

/// <summary>Locates the shared test vectors: the repo root holds PlugAndCharge.sln and ../shared/vectors sits beside it.</summary>
internal static class Vectors
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "PlugAndCharge.sln"))) dir = dir.Parent;
        if (dir == null) throw new InvalidOperationException("repository root (PlugAndCharge.sln) not found above " + AppContext.BaseDirectory);
        var vectors = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "vectors"));
        if (!Directory.Exists(vectors)) throw new InvalidOperationException("shared vectors not found at " + vectors);
        return vectors;
    });

    public static string Dir => RootDir.Value;

    public static string PathOf(string relative) => System.IO.Path.Combine(Dir, relative);

    public static byte[] Bytes(string relative) => File.ReadAllBytes(PathOf(relative));

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    public static byte[] Hex(string relative) => Convert.FromHexString(Text(relative).Trim());

    public static byte[] HubjectRequest => Bytes("hubject_opcp/ccp_certificateInstallationReq_b778d3ffc6aa.exi");

    public static byte[] HubjectFailedResponse => Convert.FromBase64String(Text("hubject_opcp/ccp_certificateInstallationRes_failed_example.b64").Trim());

    public static string RiseXml => Text("rise_v2g_signature_testdata/CertificateInstallationRes-MsgBody-namespace.xml");

    public static JsonElement RiseJson => JsonDocument.Parse(Text("rise_v2g_signature_testdata/signature_vectors.json")).RootElement;
}
