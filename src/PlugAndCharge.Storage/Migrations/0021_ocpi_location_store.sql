-- Issue 24: the hub's location and tariff store. One row per Location (its EVSEs and Connectors inside its document)
-- and per Tariff, the document as the CPO sent it (in its OCPI version), with its keys and last_updated as columns.
-- GET-all pages by (last_updated, cpo, id): a keyset, so the last page of 85,000 Locations costs what the first does.
create table ocpi_locations (
    country_code  text not null,
    party_code    text not null,
    id            text not null,
    cpo           text generated always as (country_code || '*' || party_code) stored,
    version       text not null,
    last_updated  timestamptz not null,
    body          jsonb not null,
    primary key (country_code, party_code, id)
);
create index ocpi_locations_page on ocpi_locations (last_updated, cpo, id);
create index ocpi_locations_id on ocpi_locations (id);

create table ocpi_tariffs (
    country_code  text not null,
    party_code    text not null,
    id            text not null,
    cpo           text generated always as (country_code || '*' || party_code) stored,
    version       text not null,
    last_updated  timestamptz not null,
    body          jsonb not null,
    primary key (country_code, party_code, id)
);
create index ocpi_tariffs_page on ocpi_tariffs (last_updated, cpo, id);
create index ocpi_tariffs_id on ocpi_tariffs (id);

-- Pushes to a party that failed: retried by any instance (claimed_until is the claiming instance's lease), the whole
-- object as it is then, so one row per (party, object) coalesces every failed change of it.
create table ocpi_store_push_retries (
    id            bigserial primary key,
    party_id      text not null references ocpi_parties(id) on delete cascade,
    kind          text not null,
    country_code  text not null,
    party_code    text not null,
    object_id     text not null,
    attempts      integer not null default 0,
    due_at        timestamptz not null,
    claimed_until timestamptz,
    unique (party_id, kind, country_code, party_code, object_id)
);
create index ocpi_store_push_retries_due on ocpi_store_push_retries (due_at);

-- Incremental pulls: per CPO party and kind, when the last complete pull started (the next one's date_from).
create table ocpi_store_pull_sync (
    party_id     text not null references ocpi_parties(id) on delete cascade,
    kind         text not null,
    synced_from  timestamptz not null,
    primary key (party_id, kind)
);

-- The one poller of the hub: the instance holding this lease row until it expires.
create table ocpi_store_poll_lease (
    id      integer primary key check (id = 1),
    holder  text,
    until   timestamptz not null
);
insert into ocpi_store_poll_lease (id, holder, until) values (1, null, '-infinity');
