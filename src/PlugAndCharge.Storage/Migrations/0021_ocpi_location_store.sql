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
    body          json not null,
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
    body          json not null,
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

-- Objects per (kind, CPO), kept by trigger: X-Total-Count of a GET-all without a date window is the sum over the
-- reader's CPOs instead of a count of 85,000 rows on every page. Only inserts and deletes touch it (a PATCH does not).
create table ocpi_store_counts (
    kind     text not null,
    cpo      text not null,
    objects  bigint not null,
    primary key (kind, cpo)
);

create function ocpi_store_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into ocpi_store_counts (kind, cpo, objects) values (tg_argv[0], new.country_code || '*' || new.party_code, 1)
        on conflict (kind, cpo) do update set objects = ocpi_store_counts.objects + 1;
    else
        update ocpi_store_counts set objects = objects - 1 where kind = tg_argv[0] and cpo = old.country_code || '*' || old.party_code;
    end if;
    return null;
end $$;

create trigger ocpi_locations_count after insert or delete on ocpi_locations
    for each row execute function ocpi_store_count('Location');
create trigger ocpi_tariffs_count after insert or delete on ocpi_tariffs
    for each row execute function ocpi_store_count('Tariff');
