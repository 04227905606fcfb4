namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>The OCPI versions this hub speaks. 2.3.0 adds token type EMAID and hub_party_id and drops the HUB role.</summary>
public enum OcpiVersion { V221, V230 }

public static class OcpiVersions
{
    public const string V221Text = "2.2.1";
    public const string V230Text = "2.3.0";

    public static IReadOnlyList<OcpiVersion> Supported { get; } = [OcpiVersion.V221, OcpiVersion.V230];

    public static string ToText(this OcpiVersion v) => v == OcpiVersion.V221 ? V221Text : V230Text;

    public static bool TryParse(string? text, out OcpiVersion version)
    {
        switch (text)
        {
            case V221Text: version = OcpiVersion.V221; return true;
            case V230Text: version = OcpiVersion.V230; return true;
            default: version = default; return false;
        }
    }
}
