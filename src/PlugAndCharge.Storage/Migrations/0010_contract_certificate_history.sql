-- Every certificate a contract has had, not only its current one (contract_certificates, one row per contract):
-- * a CertificateUpdateReq is honoured only when signed with a certificate issued for that very contract, current or
--   superseded within the grace window (ISO 15118-2 CertificateUpdateReq is signed with the installed contract
--   certificate's key; CertificateInstallationService.UpdateAsync);
-- * ending a contract revokes all of them (renewals, updates and batched installations left earlier ones valid).
-- A certificate is known by the SHA-256 of its DER. The row is written in the transaction that links the certificate.
create table contract_certificate_history (
    contract_id  uuid not null references contracts(id),
    sha256       bytea not null,
    issuer_id    text,
    serial       text not null,
    not_after    timestamptz not null,
    recorded_at  timestamptz not null,
    primary key (contract_id, sha256)
);

-- Earlier certificates of existing contracts: the hub-issued ones from the audit entries that linked them (the CA's
-- record gives their DER), then each contract's current certificate.
insert into contract_certificate_history(contract_id, sha256, issuer_id, serial, not_after, recorded_at)
select k.id, sha256(x.der), x.issuer_id, x.serial, x.not_after, a.at
from audit_log a
join contracts k on k.id::text = (a.details::jsonb ->> 'contract')
join certificates x on x.issuer_id = (a.details::jsonb ->> 'issuer') and x.serial = (a.details::jsonb ->> 'serial')
where a.action = 'contract.certificate' and x.der is not null
on conflict do nothing;

insert into contract_certificate_history(contract_id, sha256, issuer_id, serial, not_after, recorded_at)
select contract_id, sha256(der), issuer_id, serial, not_after, recorded_at from contract_certificates
on conflict (contract_id, sha256) do update set recorded_at = greatest(contract_certificate_history.recorded_at, excluded.recorded_at);
