-- OCPI hub: parties with their roles and eMI3 provider prefixes, and the tokens eMSPs push.
create table ocpi_parties (
    id                    text primary key,
    name                  text not null,
    status                text not null,
    version               text,
    versions_url          text,
    -- Token B: what the hub presents when it calls the party (it must be sent, so it cannot be a hash).
    outgoing_token        text,
    endpoints             jsonb not null default '[]',
    -- SHA-256 of the token the party presents (A before registration, C after); the token itself is never stored.
    incoming_token_sha256 text unique,
    incoming_token_kind   text not null default 'None',
    timeout_ms            integer,
    updated_at            timestamptz not null,
    last_seen_at          timestamptz
);

-- A role (CPO, EMSP, ...) with its OCPI country code and party ID belongs to one party only.
create table ocpi_party_roles (
    party_id       text not null references ocpi_parties(id) on delete cascade,
    role           text not null,
    country_code   text not null,
    party_code     text not null,
    business_name  text,
    position       integer not null,
    primary key (party_id, role, country_code, party_code)
);
create unique index ocpi_party_roles_identity on ocpi_party_roles (role, upper(country_code), upper(party_code));

-- eMI3 provider prefix (country + provider ID of an EMAID) -> the eMSP party that issues those contracts.
create table ocpi_provider_prefixes (
    prefix    text primary key,
    party_id  text not null references ocpi_parties(id) on delete cascade
);

-- Tokens pushed by eMSPs, in their 2.3.0 form (EMAID type, normalized uid).
create table ocpi_tokens (
    country_code  text not null,
    party_code    text not null,
    uid           text not null,
    type          text not null,
    whitelist     text,
    last_updated  timestamptz not null,
    body          jsonb not null,
    primary key (country_code, party_code, uid, type)
);
create index ocpi_tokens_uid on ocpi_tokens (uid, type);
create index ocpi_tokens_last_updated on ocpi_tokens (last_updated, country_code, party_code, uid, type);

-- Contract certificates by the EMAID in their CN, for the hub's Plug & Charge short-cut.
create index certificates_contract_cn on certificates ((upper(substring(subject from 'CN=([^,+]+)'))))
    where profile_id like '%/contract';
