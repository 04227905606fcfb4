-- A contract's certificate, its keys and its signed data move out of the contract's row into a row of their own.
-- Recording a certificate (the installation path, 1,000/s at peak) then inserts one row with one index entry, or updates
-- that row alone, instead of rewriting the contract's ~2 KB row and adding entries to all five of its indexes.
-- One row per contract: its current certificate.
create table contract_certificates (
    contract_id           uuid primary key references contracts(id),
    issuer_id             text,
    serial                text not null,
    der                   bytea not null,
    sub_ca_ders           bytea[] not null,
    not_before            timestamptz not null,
    not_after             timestamptz not null,
    key_algorithm         text not null,
    -- AES-256-GCM under the key-encryption key of the configuration; never the clear key.
    wrapped_private_key   bytea,
    vehicle_encrypted_key bytea,
    dh_public_key         bytea,
    signed_data           bytea,
    recorded_at           timestamptz not null
);

insert into contract_certificates(contract_id, issuer_id, serial, der, sub_ca_ders, not_before, not_after, key_algorithm,
                                  wrapped_private_key, vehicle_encrypted_key, dh_public_key, signed_data, recorded_at)
select id, cert_issuer_id, cert_serial, cert_der, coalesce(cert_sub_ca_ders, '{}'), cert_not_before, cert_not_after, cert_key_algorithm,
       wrapped_private_key, vehicle_encrypted_key, dh_public_key, signed_data, updated_at
from contracts where cert_der is not null;

alter table contracts
    drop column cert_issuer_id, drop column cert_serial, drop column cert_der, drop column cert_sub_ca_ders,
    drop column cert_not_before, drop column cert_not_after, drop column cert_key_algorithm,
    drop column wrapped_private_key, drop column vehicle_encrypted_key, drop column dh_public_key, drop column signed_data;
