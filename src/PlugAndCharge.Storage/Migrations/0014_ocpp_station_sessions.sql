-- Several instances serve the same stations (issue 22). Each instance refreshes its row while it lives; a station's
-- session row names the instance holding its WebSocket (the newest connection wins), and is ignored once that
-- instance stops refreshing. Commands for a station go through ocpp_station_commands: the caller inserts one and
-- NOTIFYs the holder (channel pnc_ocpp_<instance>), the holder runs it and writes the result, then NOTIFYs the caller.
create table ocpp_instances (
    instance_id   text primary key,
    started_at    timestamptz not null default now(),
    heartbeat_at  timestamptz not null default now()
);

create table ocpp_station_sessions (
    station_id     text primary key,
    instance_id    text not null,
    connection_id  uuid not null,
    ocpp_version   text not null,
    connected_at   timestamptz not null default now()
);

create index ocpp_station_sessions_instance on ocpp_station_sessions (instance_id);

create table ocpp_station_commands (
    command_id       uuid primary key,
    station_id       text not null,
    caller_instance  text not null,
    holder_instance  text not null,
    action           text not null,
    payload          text not null,
    native16         boolean not null,
    timeout_ms       integer not null check (timeout_ms > 0),
    state            text not null default 'pending' check (state in ('pending', 'running', 'done')),
    -- done: the station's answer (JSON), or failure = refused | timed-out | disconnected | not-connected with message.
    result           text,
    failure          text,
    error_code       text,
    message          text,
    created_at       timestamptz not null default now(),
    expires_at       timestamptz not null
);

create index ocpp_station_commands_pending on ocpp_station_commands (holder_instance) where state = 'pending';
create index ocpp_station_commands_expires on ocpp_station_commands (expires_at);
