-- Issue 26: station passwords fit for machines. password_hash now holds either a keyed record of a service-generated
-- password (hmac-sha256$KEYID$MAC) or a PBKDF2 record (pbkdf2-sha256$...); password_chosen_by says who chose the
-- password ('operator' keeps PBKDF2 and is never upgraded; null = registered before this migration, upgraded to the
-- keyed record at its next login). A rotation (OCPP 2.0.1 A01) keeps the replaced record in previous_password_hash,
-- valid until previous_password_until or the first login with the new one.
alter table ocpp_stations
    add column password_chosen_by      text check (password_chosen_by in ('service', 'operator')),
    add column previous_password_hash  text,
    add column previous_password_until timestamptz,
    add constraint ocpp_stations_previous_password check ((previous_password_hash is null) = (previous_password_until is null));
