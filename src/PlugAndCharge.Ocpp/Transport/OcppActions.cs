using System.Collections.Frozen;

namespace PlugAndCharge.Ocpp.Transport;

/// <summary>
/// Every action each OCPP version defines (from the OCA schema sets), so an action outside this service's scope is
/// answered NotSupported ("recognized but not supported") and anything else NotImplemented ("not known"), as OCPP-J
/// 2.0.1 §4.3 distinguishes them.
/// </summary>
public static class OcppActions
{
    private static readonly FrozenSet<string> V16Actions = FrozenSet.ToFrozenSet(
    [
        "Authorize", "BootNotification", "CancelReservation", "CertificateSigned", "ChangeAvailability",
        "ChangeConfiguration", "ClearCache", "ClearChargingProfile", "DataTransfer", "DeleteCertificate",
        "DiagnosticsStatusNotification", "ExtendedTriggerMessage", "FirmwareStatusNotification",
        "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetInstalledCertificateIds",
        "GetLocalListVersion", "GetLog", "Heartbeat", "InstallCertificate", "LogStatusNotification", "MeterValues",
        "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SecurityEventNotification",
        "SendLocalList", "SetChargingProfile", "SignCertificate", "SignedFirmwareStatusNotification",
        "SignedUpdateFirmware", "StartTransaction", "StatusNotification", "StopTransaction", "TriggerMessage",
        "UnlockConnector", "UpdateFirmware",
    ], StringComparer.Ordinal);

    private static readonly FrozenSet<string> V201Actions = FrozenSet.ToFrozenSet(
    [
        "Authorize", "BootNotification", "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
        "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "ClearedChargingLimit",
        "CostUpdated", "CustomerInformation", "DataTransfer", "DeleteCertificate", "FirmwareStatusNotification",
        "Get15118EVCertificate", "GetBaseReport", "GetCertificateStatus", "GetChargingProfiles",
        "GetCompositeSchedule", "GetDisplayMessages", "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog",
        "GetMonitoringReport", "GetReport", "GetTransactionStatus", "GetVariables", "Heartbeat", "InstallCertificate",
        "LogStatusNotification", "MeterValues", "NotifyChargingLimit", "NotifyCustomerInformation",
        "NotifyDisplayMessages", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyEvent",
        "NotifyMonitoringReport", "NotifyReport", "PublishFirmware", "PublishFirmwareStatusNotification",
        "ReportChargingProfiles", "ReservationStatusUpdate", "ReserveNow", "Reset", "SecurityEventNotification",
        "SendLocalList", "SetChargingProfile", "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel",
        "SetNetworkProfile", "SetVariableMonitoring", "SetVariables", "SignCertificate", "StartTransaction",
        "StatusNotification", "StopTransaction", "TransactionEvent", "TriggerMessage", "UnlockConnector",
        "UnpublishFirmware", "UpdateFirmware",
    ], StringComparer.Ordinal);

    private static readonly FrozenSet<string> V21Actions = FrozenSet.ToFrozenSet(
    [
        "AFRRSignal", "AdjustPeriodicEventStream", "Authorize", "BatterySwap", "BootNotification",
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ChangeTransactionTariff", "ClearCache",
        "ClearChargingProfile", "ClearDERControl", "ClearDisplayMessage", "ClearTariffs", "ClearVariableMonitoring",
        "ClearedChargingLimit", "ClosePeriodicEventStream", "CostUpdated", "CustomerInformation", "DataTransfer",
        "DeleteCertificate", "FirmwareStatusNotification", "Get15118EVCertificate", "GetBaseReport",
        "GetCertificateChainStatus", "GetCertificateStatus", "GetChargingProfiles", "GetCompositeSchedule",
        "GetDERControl", "GetDisplayMessages", "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog",
        "GetMonitoringReport", "GetPeriodicEventStream", "GetReport", "GetTariffs", "GetTransactionStatus",
        "GetVariables", "Heartbeat", "InstallCertificate", "LogStatusNotification", "MeterValues",
        "NotifyAllowedEnergyTransfer", "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDERAlarm",
        "NotifyDERStartStop", "NotifyDisplayMessages", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule",
        "NotifyEvent", "NotifyMonitoringReport", "NotifyPeriodicEventStream", "NotifyPriorityCharging",
        "NotifyReport", "NotifySettlement", "NotifyWebPaymentStarted", "OpenPeriodicEventStream", "PublishFirmware",
        "PublishFirmwareStatusNotification", "PullDynamicScheduleUpdate", "ReportChargingProfiles",
        "ReportDERControl", "ReservationStatusUpdate", "ReserveNow", "Reset", "SecurityEventNotification",
        "SendLocalList", "SetChargingProfile", "SetDERControl", "SetDefaultTariff", "SetDisplayMessage",
        "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile", "SetVariableMonitoring", "SetVariables",
        "SignCertificate", "StartTransaction", "StatusNotification", "StopTransaction", "TransactionEvent",
        "TriggerMessage", "UnlockConnector", "UnpublishFirmware", "UpdateDynamicSchedule", "UpdateFirmware",
        "UsePriorityCharging", "VatNumberValidation",
    ], StringComparer.Ordinal);

    public static bool IsDefined(OcppVersion version, string action) => version switch
    {
        OcppVersion.V16 => V16Actions.Contains(action),
        OcppVersion.V201 => V201Actions.Contains(action),
        _ => V21Actions.Contains(action),
    };
}
