-- Certificate authorities, issued certificates, CRLs and the hash-chained audit log.
create table certificate_authorities (
    id                  text primary key,
    profile_id          text not null,
    parent_id           text references certificate_authorities(id),
    key_uri             text not null,
    certificate_der     bytea not null,
    status              text not null default 'Active',
    ocsp_signer_serial  text,
    ocsp_signer_key_uri text,
    crl_number          bigint not null default 0,
    created_at          timestamptz not null default now()
);

create table certificates (
    issuer_id          text not null references certificate_authorities(id),
    serial             text not null,
    profile_id         text not null,
    subject            text not null,
    status             text not null,
    not_before         timestamptz,
    not_after          timestamptz,
    der                bytea,
    sha256             bytea,
    revoked_at         timestamptz,
    revocation_reason  smallint,
    created_at         timestamptz not null default now(),
    -- RFC 5280 §4.1.2.2: serials are unique per issuer; reserved before signing.
    primary key (issuer_id, serial)
);
create index certificates_serial on certificates (serial);
create unique index certificates_sha256 on certificates (sha256) where sha256 is not null;
create index certificates_revoked on certificates (issuer_id) where status = 'Revoked';

create table crls (
    issuer_id    text not null references certificate_authorities(id),
    crl_number   bigint not null,
    this_update  timestamptz not null,
    next_update  timestamptz not null,
    der          bytea not null,
    primary key (issuer_id, crl_number)
);

create table audit_log (
    seq        bigint primary key,
    at         timestamptz not null,
    actor      text not null,
    action     text not null,
    subject    text not null,
    details    text not null,
    prev_hash  bytea not null,
    hash       bytea not null
);

-- Append-only: the service's role cannot change or delete history; the hash chain shows tampering by anyone else.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only();
