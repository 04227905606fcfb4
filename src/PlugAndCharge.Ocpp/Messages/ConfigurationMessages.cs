namespace PlugAndCharge.Ocpp.Messages;

// The configuration messages the service sends to set a station's Basic-auth password: OCPP 2.0.1 / 2.1 SetVariables
// (SecurityCtrlr.BasicAuthPassword, use case A01) and OCPP 1.6 ChangeConfiguration (AuthorizationKey, security
// whitepaper), shaped as the OCA schemas define them.

public sealed record ComponentRef(string Name);

public sealed record VariableRef(string Name);

public sealed record SetVariableData(string AttributeValue, ComponentRef Component, VariableRef Variable);

public sealed record SetVariablesRequest(IReadOnlyList<SetVariableData> SetVariableData);

public sealed record SetVariableResult(string AttributeStatus, ComponentRef Component, VariableRef Variable, StatusInfo? AttributeStatusInfo = null);

public sealed record SetVariablesResponse(IReadOnlyList<SetVariableResult> SetVariableResult);

public sealed record ChangeConfigurationRequest(string Key, string Value);

public sealed record ChangeConfigurationResponse(string Status);
