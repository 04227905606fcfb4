namespace PlugAndCharge.Contracts;

/// <summary>The ISO 15118 part a vehicle, contract or root belongs to; OPCP names it by its MsgDef namespace.</summary>
public enum IsoStandard { Iso15118_2, Iso15118_20 }

public static class IsoStandards
{
    public const string Iso2MsgDef = "urn:iso:15118:2:2013:MsgDef";
    /// <summary>The OPCP label of ISO 15118-20 (the -20 schemas themselves use urn:iso:std:iso:15118:-20:*).</summary>
    public const string Iso20MsgDef = "urn:iso:15118:20:2022:MsgDef";

    public static string Namespace(this IsoStandard s) => s == IsoStandard.Iso15118_2 ? Iso2MsgDef : Iso20MsgDef;

    public static IsoStandard FromNamespace(string? ns) => ns switch
    {
        null or "" or Iso2MsgDef => IsoStandard.Iso15118_2,
        Iso20MsgDef or "urn:iso:std:iso:15118:-20:CommonMessages" => IsoStandard.Iso15118_20,
        _ => throw new ContractException(ContractError.Malformed, $"Unknown xsdMsgDefNamespace '{ns}' ({Iso2MsgDef} or {Iso20MsgDef})."),
    };
}
