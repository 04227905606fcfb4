using PlugAndCharge.Exi;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>Qualified names of the ISO 15118-2 messages this service reads and writes.</summary>
public static class Iso2Names
{
    public const string MsgDef = "urn:iso:15118:2:2013:MsgDef";
    public const string MsgHeader = "urn:iso:15118:2:2013:MsgHeader";
    public const string MsgBody = "urn:iso:15118:2:2013:MsgBody";
    public const string MsgDataTypes = "urn:iso:15118:2:2013:MsgDataTypes";

    public static readonly QName V2GMessage = new(MsgDef, "V2G_Message");
    public static readonly QName Header = new(MsgDef, "Header");
    public static readonly QName Body = new(MsgDef, "Body");
    public static readonly QName SessionId = new(MsgHeader, "SessionID");
    public static readonly QName InstallationReq = new(MsgBody, "CertificateInstallationReq");
    public static readonly QName InstallationRes = new(MsgBody, "CertificateInstallationRes");
    public static readonly QName UpdateReq = new(MsgBody, "CertificateUpdateReq");
    public static readonly QName UpdateRes = new(MsgBody, "CertificateUpdateRes");
    public static readonly QName ResponseCode = new(MsgBody, "ResponseCode");
    public static readonly QName OemProvisioningCert = new(MsgBody, "OEMProvisioningCert");
    public static readonly QName ListOfRootCertificateIds = new(MsgBody, "ListOfRootCertificateIDs");
    public static readonly QName SaProvisioningCertificateChain = new(MsgBody, "SAProvisioningCertificateChain");
    public static readonly QName ContractSignatureCertChain = new(MsgBody, "ContractSignatureCertChain");
    public static readonly QName ContractSignatureEncryptedPrivateKey = new(MsgBody, "ContractSignatureEncryptedPrivateKey");
    public static readonly QName DhPublicKey = new(MsgBody, "DHpublickey");
    public static readonly QName Emaid = new(MsgBody, "eMAID");
    public static readonly QName RetryCounter = new(MsgBody, "RetryCounter");
    public static readonly QName BodyId = new(MsgBody, "Id");
    public static readonly QName Certificate = new(MsgDataTypes, "Certificate");
    public static readonly QName SubCertificates = new(MsgDataTypes, "SubCertificates");
    public static readonly QName RootCertificateId = new(MsgDataTypes, "RootCertificateID");
    public static readonly QName DataTypesId = new(MsgDataTypes, "Id");
    public static readonly QName X509IssuerName = new(ExiSignature.DsNamespace, "X509IssuerName");
    public static readonly QName X509SerialNumber = new(ExiSignature.DsNamespace, "X509SerialNumber");
}

/// <summary>Qualified names of the ISO 15118-20 CommonMessages used for contract installation.</summary>
public static class Iso20Names
{
    public const string Messages = "urn:iso:std:iso:15118:-20:CommonMessages";
    public const string Types = "urn:iso:std:iso:15118:-20:CommonTypes";

    public static readonly QName InstallationReq = new(Messages, "CertificateInstallationReq");
    public static readonly QName InstallationRes = new(Messages, "CertificateInstallationRes");
    public static readonly QName Header = new(Types, "Header");
    public static readonly QName SessionId = new(Types, "SessionID");
    public static readonly QName TimeStamp = new(Types, "TimeStamp");
    public static readonly QName ResponseCode = new(Types, "ResponseCode");
    public static readonly QName RootCertificateId = new(Types, "RootCertificateID");
    public static readonly QName OemProvisioningCertificateChain = new(Messages, "OEMProvisioningCertificateChain");
    public static readonly QName ListOfRootCertificateIds = new(Messages, "ListOfRootCertificateIDs");
    public static readonly QName MaximumContractCertificateChains = new(Messages, "MaximumContractCertificateChains");
    public static readonly QName PrioritizedEmaids = new(Messages, "PrioritizedEMAIDs");
    public static readonly QName Emaid = new(Messages, "EMAID");
    public static readonly QName EvseProcessing = new(Messages, "EVSEProcessing");
    public static readonly QName CpsCertificateChain = new(Messages, "CPSCertificateChain");
    public static readonly QName SignedInstallationData = new(Messages, "SignedInstallationData");
    public static readonly QName ContractCertificateChain = new(Messages, "ContractCertificateChain");
    public static readonly QName EcdhCurve = new(Messages, "ECDHCurve");
    public static readonly QName DhPublicKey = new(Messages, "DHPublicKey");
    public static readonly QName Secp521EncryptedPrivateKey = new(Messages, "SECP521_EncryptedPrivateKey");
    public static readonly QName X448EncryptedPrivateKey = new(Messages, "X448_EncryptedPrivateKey");
    public static readonly QName RemainingContractCertificateChains = new(Messages, "RemainingContractCertificateChains");
    public static readonly QName Certificate = new(Messages, "Certificate");
    public static readonly QName SubCertificates = new(Messages, "SubCertificates");
    public static readonly QName Id = new(Messages, "Id");
}
