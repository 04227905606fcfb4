-- The audit chain link is computed by PostgreSQL, in one statement: audit_append takes the chain's advisory lock, reads
-- the head and inserts the linked entries without returning to the application in between. The lock (transaction-
-- scoped) is then held only until the COMMIT that the callers send in the same batch, instead of across an application
-- round trip (issue 22). The hash definition is unchanged (AuditChain.ComputeHash): sha256(prev_hash || UTF-8 of
-- seq, at in microseconds since the Unix epoch, actor, action, subject, details joined by U+001F), so existing chains
-- verify as before and `pnc audit verify` needs no new rule.
-- A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement (read committed), so the head read after the
-- lock sees every entry committed before the lock was granted. extract(epoch ...) is exact (numeric) since PostgreSQL 14.
create function audit_append(p_at timestamptz, p_actors text[], p_actions text[], p_subjects text[], p_details text[])
returns bigint language plpgsql volatile as $$
declare
    v_seq bigint;
    v_prev bytea;
    v_micros text := (extract(epoch from p_at) * 1000000)::bigint::text;
    v_n int := coalesce(array_length(p_actors, 1), 0);
    v_seqs bigint[] := '{}';
    v_prevs bytea[] := '{}';
    v_hashes bytea[] := '{}';
begin
    perform pg_advisory_xact_lock(22604049404745028); -- "PNC_AUD", the key the application used before
    select seq, hash into v_seq, v_prev from audit_log order by seq desc limit 1;
    if not found then
        v_seq := 0;
        v_prev := decode(repeat('00', 32), 'hex');
    end if;
    for i in 1 .. v_n loop
        v_seq := v_seq + 1;
        v_seqs := v_seqs || v_seq;
        v_prevs := v_prevs || v_prev;
        v_prev := sha256(v_prev || convert_to(concat_ws(chr(31), v_seq::text, v_micros, p_actors[i], p_actions[i], p_subjects[i], p_details[i]), 'UTF8'));
        v_hashes := v_hashes || v_prev;
    end loop;
    insert into audit_log(seq, at, actor, action, subject, details, prev_hash, hash)
    select s, p_at, a, ac, su, d, p, h from unnest(v_seqs, p_actors, p_actions, p_subjects, p_details, v_prevs, v_hashes) as r(s, a, ac, su, d, p, h);
    return v_seq;
end $$;
