namespace PlugAndCharge.Exi;

/// <summary>The schema sets this codec carries (XSDs embedded from Schemas/).</summary>
public enum ExiSchemaId
{
    /// <summary>ISO 15118-2:2014, V2G_CI_MsgDef.xsd (header, body substitution group, data types, xmldsig).</summary>
    Iso2,
    /// <summary>ISO 15118-20 CommonMessages (with CommonTypes and xmldsig).</summary>
    Iso20,
    Iso20Ac,
    Iso20Dc,
    Iso20Acdp,
    Iso20Wpt,
    /// <summary>DIN SPEC 70121.</summary>
    Din,
    /// <summary>SupportedAppProtocol handshake.</summary>
    AppHand,
    /// <summary>W3C XML Signature schema alone (SignedInfo fragments).</summary>
    XmlDsig,
}
