-- Two indexes on certificates that every issuance paid for (about a fifth of the insert's cost each at 1,000
-- installations/s) and no hot query needed:
-- * certificates_sha256 only enforced uniqueness, which the primary key already gives: a DER encodes its issuer and
--   serial, so two rows with one DER would share (issuer_id, serial). No statement looks a certificate up by hash.
-- * certificates_serial served the operator's revocation by serial alone; that lookup now probes the primary key once
--   per CA (PostgresPkiStore.FindBySerialAsync), a dozen index probes for a command run by hand.
drop index certificates_sha256;
drop index certificates_serial;
