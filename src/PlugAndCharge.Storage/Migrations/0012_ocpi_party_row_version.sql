-- Optimistic concurrency for OCPI parties: every write names the row version it read and bumps it, so a credentials
-- handshake in flight on one instance cannot overwrite a revocation or suspension another instance stored meanwhile.
alter table ocpi_parties add column row_version bigint not null default 0;
