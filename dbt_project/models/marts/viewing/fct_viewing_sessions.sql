{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_since(['profile_id', 'device_id', 'title_id'], 'started_at', ref('int_run_changes'), 'recompute_from') }}",
    )
}}

with

events as (

    select * from {{ ref('int_playback_events_sessionized') }}

),

households as (

    select * from {{ ref('int_households_current') }}

),

profiles as (

    select * from {{ ref('int_profiles_current') }}

),

sessions_aggregated as (

    select
        session_id,
        any_value(household_id order by event_at, event_id) as household_id,
        any_value(profile_id) as profile_id,
        any_value(device_id) as device_id,
        any_value(title_id) as title_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        arg_min(position_seconds, (event_at, event_id)) as start_position_seconds,
        arg_max(position_seconds, (event_at, event_id)) as end_position_seconds,
        max(position_seconds) as max_position_seconds,
        sum(played_seconds) as played_seconds,
        count(*) as event_count

    from events

    group by session_id

),

sessions_localized as (

    select
        sessions_aggregated.*,
        {{ utc_to_local('sessions_aggregated.started_at', 'households.timezone_name') }} as local_started_at

    from sessions_aggregated

    left join households
        on sessions_aggregated.household_id = households.household_id

),

sessions_classified as (

    select
        sessions_localized.session_id,
        sessions_localized.household_id,
        sessions_localized.profile_id,
        sessions_localized.device_id,
        sessions_localized.title_id,
        sessions_localized.started_at,
        sessions_localized.ended_at,
        sessions_localized.local_started_at,
        cast(sessions_localized.local_started_at as date) as local_date,
        {{ daypart('sessions_localized.local_started_at') }} as daypart,
        sessions_localized.start_position_seconds,
        sessions_localized.end_position_seconds,
        sessions_localized.max_position_seconds,
        sessions_localized.played_seconds,
        sessions_localized.played_seconds >= {{ var('rewatch__view_min_played_seconds') }} as is_view,
        coalesce(profiles.is_kids_profile, false) as is_kids_profile,
        sessions_localized.event_count

    from sessions_localized

    left join profiles
        on sessions_localized.profile_id = profiles.profile_id

)

select * from sessions_classified
