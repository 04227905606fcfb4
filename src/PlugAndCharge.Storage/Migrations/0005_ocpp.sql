-- OCPP stations allowed to connect to /ocpp/{station_id}: their CPO, security profile and (profile 2) the PBKDF2
-- record of their Basic-auth password (never the password), plus what their last BootNotification reported.
create table ocpp_stations (
    station_id        text primary key check (length(station_id) between 1 and 48),
    cpo_id            text not null,
    cpo_organization  text not null,
    security_profile  smallint not null check (security_profile in (2, 3)),
    password_hash     text,
    serial_number     text,
    vendor            text,
    model             text,
    firmware_version  text,
    last_boot_at      timestamptz,
    registered_at     timestamptz not null default now(),
    -- Security profile 2 authenticates with a password: a station without one could never connect.
    constraint ocpp_stations_profile2_password check (security_profile <> 2 or password_hash is not null)
);

create index ocpp_stations_cpo on ocpp_stations (cpo_id);
