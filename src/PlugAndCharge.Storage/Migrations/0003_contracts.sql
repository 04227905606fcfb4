-- Contract provisioning: root and provisioning certificate pools, contracts, webhook endpoints and their outbox.
create table root_certificates (
    id                  uuid primary key,
    root_type           text not null,
    der                 bytea not null,
    fingerprint         text not null unique,
    distinguished_name  text not null,
    common_name         text not null,
    serial_number       text not null,
    key_identifier      text not null,
    valid_from          timestamptz not null,
    valid_to            timestamptz not null,
    standard            text not null,
    signature_algorithm text not null,
    organization_name   text,
    owner_id            text,
    wmis                text[] not null default '{}',
    added_at            timestamptz not null
);

create table provisioning_certificates (
    pcid            text primary key,
    oem_id          text not null,
    certificate_der bytea not null,
    sub_ca_ders     bytea[] not null,
    root_id         uuid not null,
    standard        text not null,
    key_algorithm   text not null,
    valid_to        timestamptz not null,
    status          text not null,
    added_at        timestamptz not null
);
create index provisioning_certificates_oem on provisioning_certificates (oem_id);

-- A contract outlives its vehicle row (terminated, for history), so pcid is not a foreign key.
create table contracts (
    id                    uuid primary key,
    emaid                 text not null,
    pcid                  text not null,
    emsp_id               text not null,
    standard              text not null,
    origin                text not null,
    is_default            boolean not null,
    state                 text not null,
    cert_issuer_id        text,
    cert_serial           text,
    cert_der              bytea,
    cert_sub_ca_ders      bytea[],
    cert_not_before       timestamptz,
    cert_not_after        timestamptz,
    cert_key_algorithm    text,
    -- AES-256-GCM under the key-encryption key of the configuration; never the clear key.
    wrapped_private_key   bytea,
    vehicle_encrypted_key bytea,
    dh_public_key         bytea,
    signed_data           bytea,
    contract_ends         timestamptz,
    created_at            timestamptz not null,
    updated_at            timestamptz not null,
    terminated_at         timestamptz,
    termination_reason    text
);
-- One active contract per EMAID; at most one default per vehicle.
create unique index contracts_active_emaid on contracts (emaid) where state = 'Active';
create unique index contracts_default_per_vehicle on contracts (pcid) where state = 'Active' and is_default;
create index contracts_emaid on contracts (emaid);
create index contracts_pcid on contracts (pcid);

create table webhook_endpoints (
    id             uuid primary key,
    owner_id       text not null,
    url            text not null,
    enabled_events text[] not null,
    wrapped_secret bytea not null,
    description    text,
    status         text not null,
    created_at     timestamptz not null
);
create index webhook_endpoints_owner on webhook_endpoints (owner_id);

-- Outbox: rows are written in the transaction of the contract change they report.
create table webhook_outbox (
    id               uuid primary key,
    endpoint_id      uuid not null references webhook_endpoints(id) on delete cascade,
    event_id         uuid not null,
    event_type       text not null,
    payload          text not null,
    state            text not null,
    attempts         int not null default 0,
    next_attempt_at  timestamptz not null,
    last_status_code int,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz not null default now()
);
create index webhook_outbox_due on webhook_outbox (next_attempt_at) where state = 'Pending';
create index webhook_outbox_endpoint on webhook_outbox (endpoint_id);

create table webhook_attempts (
    delivery_id uuid not null references webhook_outbox(id) on delete cascade,
    attempt     int not null,
    at          timestamptz not null,
    status_code int,
    error       text,
    duration_ms double precision not null,
    primary key (delivery_id, attempt)
);
