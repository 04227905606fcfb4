-- Participants of the hub (OEMs, eMSPs, CPOs, admins), the identities they own and how they authenticate.
create table participants (
    id            text primary key,
    name          text not null,
    role          text not null check (role in ('Admin', 'Oem', 'Emsp', 'Cpo')),
    identities    text[] not null default '{}',
    organization  text,
    disabled      boolean not null default false,
    created_at    timestamptz not null default now()
);

-- One identity belongs to one participant: two eMSPs cannot both own DE8AA.
create table participant_identities (
    identity        text not null,
    role            text not null,
    participant_id  text not null references participants(id) on delete cascade,
    primary key (role, identity)
);

create table participant_credentials (
    kind            text not null check (kind in ('ClientCertificate', 'OAuthClient')),
    key             text not null,
    participant_id  text not null references participants(id) on delete cascade,
    issuer_id       text,
    serial          text,
    secret_hash     text,
    not_after       timestamptz,
    created_at      timestamptz not null default now(),
    revoked_at      timestamptz,
    primary key (kind, key)
);
create index participant_credentials_by_participant on participant_credentials (participant_id);
