-- State several instances must agree on (issue 22, "any instance serves any request").

-- OCPI commands forwarded through the hub awaiting the CPO's CommandResult (OCPI 2.2.1 §13 via a hub): any instance
-- accepts the result. claimed_until is the lease of the instance relaying it to the eMSP, so exactly one relays it;
-- a failed relay gives the lease back and the CPO may post again until expires_at.
create table ocpi_command_callbacks (
    id                    text primary key,
    response_url          text not null,
    sender_party_id       text not null,
    receiver_party_id     text not null,
    sender_country_code   text,
    sender_party_code     text,
    receiver_country_code text,
    receiver_party_code   text,
    expires_at            timestamptz not null,
    claimed_until         timestamptz
);
-- The per-sender pending budget counts these; the sweeper deletes by expiry.
create index ocpi_command_callbacks_sender on ocpi_command_callbacks (sender_party_id, expires_at);
create index ocpi_command_callbacks_expiry on ocpi_command_callbacks (expires_at);

-- ISO 15118-20 installation: which of the PCID's contracts the next CertificateInstallationReq of one V2G session
-- gets (RemainingContractCertificateChains counts down), whichever instance answers it.
create table iso20_installation_cursors (
    session_key  text primary key,
    next_index   integer not null,
    updated_at   timestamptz not null
);
create index iso20_installation_cursors_age on iso20_installation_cursors (updated_at);

-- The CPS signing leaf of each ISO standard that every instance signs with (its key by URI: a shared key directory,
-- PKCS#11 or Azure Key Vault), renewed once for all: renewing_until is the lease of the one instance issuing the next.
create table cps_signing_leaves (
    standard        text primary key,
    sub_ca_id       text,
    serial_number   text,
    key_uri         text,
    der             bytea,
    updated_at      timestamptz,
    renewing_until  timestamptz
);
