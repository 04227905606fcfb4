-- Issue 21: a station's names and login certificates are bound to what its CPO registered.
--
-- serial_number is now only the serial the CPO registered (it may name the station's ChargingStationCertificate,
-- OCPP 2.0.1 A02.FR.04); what a BootNotification announces goes to reported_serial_number and authorises nothing.
-- Until now a boot overwrote serial_number, so existing rows get back the serial of their last registration from the
-- audit log (null when none was registered) and keep the announced one as reported.
alter table ocpp_stations add column reported_serial_number text;

update ocpp_stations s
   set reported_serial_number = case when s.last_boot_at is not null then s.serial_number end,
       serial_number = (select nullif(a.details::jsonb ->> 'serialNumber', '')
                          from audit_log a
                         where a.action = 'ocpp.station.register' and a.subject = 'ocpp-station/' || s.station_id
                         order by a.seq desc
                         limit 1);

-- The client certificates a station may log in with (security profile 3): those this service issued to it through
-- SignCertificate and those its CPO registered, by SHA-256 of the DER, with the CPO they were bound under. Deleting
-- the station deletes them, so a station id registered again does not inherit its predecessor's certificates.
create table ocpp_station_certificates (
    station_id   text not null references ocpp_stations (station_id) on delete cascade,
    sha256       text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    cpo_id       text not null,
    origin       text not null check (origin in ('issued', 'registered')),
    issuer_id    text,
    serial       text,
    not_after    timestamptz not null,
    created_at   timestamptz not null default now(),
    primary key (station_id, sha256)
);

-- Stations already on security profile 3 keep logging in with the certificates this service issued to them: a
-- ChargingStationCertificate recorded with the station as the requester (the audit actor of SignCertificate) is
-- bound to that station. A certificate a station obtained with another station's id as CN stays bound to the station
-- that asked for it, where the login's CN check refuses it.
insert into ocpp_station_certificates (station_id, sha256, cpo_id, origin, issuer_id, serial, not_after)
select s.station_id, encode(c.sha256, 'hex'), s.cpo_id, 'issued', c.issuer_id, c.serial, c.not_after
  from ocpp_stations s
  join audit_log a on a.action = 'certificate.issue' and a.actor = 'ocpp-station:' || s.station_id
  join certificates c on a.subject = c.issuer_id || '/' || c.serial
 where c.status = 'Valid' and c.profile_id = 'ocpp/charging-station' and c.sha256 is not null and c.not_after is not null
on conflict (station_id, sha256) do nothing;
