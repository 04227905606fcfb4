-- Roaming agreements (issue 24): per CPO role and eMSP role, what the hub operator recorded. A pair has at most one
-- agreement that has not ended; ended ones stay as its history. Every change bumps row_version (optimistic
-- concurrency across instances) and is audited in the same transaction.
create table ocpi_roaming_agreements (
    id text primary key,
    cpo_country_code text not null,
    cpo_party_code text not null,
    emsp_country_code text not null,
    emsp_party_code text not null,
    status text not null check (status in ('active', 'suspended', 'ended')),
    valid_from timestamptz,
    valid_to timestamptz,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    row_version bigint not null default 0,
    check (valid_to is null or valid_from is null or valid_to > valid_from)
);
create unique index ocpi_roaming_agreements_open_pair on ocpi_roaming_agreements
    (cpo_country_code, cpo_party_code, emsp_country_code, emsp_party_code) where status <> 'ended';
