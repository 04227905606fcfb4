namespace PlugAndCharge.Core.Participants;

/// <summary>What a participant of the hub is; each role owns one kind of identity.</summary>
public enum ParticipantRole
{
    /// <summary>The hub operator: registers participants and roots; owns no identities.</summary>
    Admin,
    /// <summary>A vehicle maker: owns WMI codes (the first three characters of its vehicles' PCIDs).</summary>
    Oem,
    /// <summary>An eMSP / mobility operator: owns provider IDs (country + 3 characters, the EMAID prefix).</summary>
    Emsp,
    /// <summary>A charge point operator: owns operator IDs (country + 3 characters, the EVSE ID prefix).</summary>
    Cpo,
}
