-- Issue 22: a station's CPO (or the hub operator) may disable it. A disabled station keeps its registration, password
-- record and certificate bindings but may not log in (its live connection is ended on whichever instance holds it)
-- until it is enabled again; disabled_at is when, disabled_reason the optional note shown to its CPO.
alter table ocpp_stations
    add column disabled_at     timestamptz,
    add column disabled_reason text check (length(disabled_reason) <= 200);
