-- Serials are unique by construction (SerialNumbers.Compose: CSPRNG bits and a value of this sequence), so a certificate's
-- row is inserted once, after signing, instead of being reserved first and updated later (a second row version and a
-- second entry in each index). A sequence never gives a value twice, not even after a rollback. Rows still 'Reserved'
-- come from earlier versions: serials taken and never used.
create sequence certificate_serial_counter as bigint minvalue 1 maxvalue 72057594037927935 no cycle;
