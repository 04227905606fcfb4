-- Autovacuum on the tables the installation path fills (insert-mostly), so that its visits do not stall a peak.
--
-- No planner statistics on opaque blobs: no query filters or sorts on a DER, a hash, a key or a payload. ANALYZE then
-- skips them and costs 2-5x less CPU.
alter table certificates alter column der set statistics 0, alter column sha256 set statistics 0;
alter table audit_log alter column details set statistics 0, alter column prev_hash set statistics 0, alter column hash set statistics 0;
alter table provisioning_certificates alter column certificate_der set statistics 0, alter column sub_ca_ders set statistics 0;
alter table contract_certificates alter column der set statistics 0, alter column sub_ca_ders set statistics 0,
    alter column wrapped_private_key set statistics 0, alter column vehicle_encrypted_key set statistics 0,
    alter column dh_public_key set statistics 0, alter column signed_data set statistics 0;
alter table webhook_outbox alter column payload set statistics 0;

-- A visit to these tables is CPU work (their pages are cached) that the default 2 ms cost delay barely throttles:
-- about a second of a core within a second, at 1,000 installations/s two seconds of p99 near 100-350 ms. With 20 ms
-- (the default before PostgreSQL 12) the same work spreads over about six seconds. These tables are appended to and
-- rarely updated, so a slower vacuum leaves little dead space behind.
alter table certificates set (autovacuum_vacuum_cost_delay = 20);
alter table audit_log set (autovacuum_vacuum_cost_delay = 20);
alter table provisioning_certificates set (autovacuum_vacuum_cost_delay = 20);
alter table contract_certificates set (autovacuum_vacuum_cost_delay = 20);
