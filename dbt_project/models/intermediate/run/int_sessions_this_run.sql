-- This run's sessions: the changed streams' sessions from their recompute points, with local
-- time, daypart, view and kids flags. fct_viewing_sessions replaces its rows with these.
with

events as (

    select * from {{ ref('int_events_this_run') }}

),

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

activity_sessions as (

    select * from {{ ref('int_viewing_activity_sessions') }}

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
        any_value(device_type order by event_at, event_id) as device_type,
        any_value(title_id) as title_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        arg_min(position_seconds, (event_at, event_id)) as start_position_seconds,
        arg_max(position_seconds, (event_at, event_id)) as end_position_seconds,
        max(position_seconds) as max_position_seconds,
        sum(played_seconds) as played_seconds,
        count(*) as event_count,
        cast(null as varchar) as supplemental_type,
        cast(null as boolean) as is_autoplay,
        cast(null as varchar) as country_timezone_name,
        cast(null as bigint) as source_line,
        'playback_events' as source

    from events

    group by session_id

),

-- The second feed's sessions of the changed streams, from their recompute points.
activity_sessions_changed as (

    select
        activity_sessions.session_id,
        activity_sessions.household_id,
        activity_sessions.profile_id,
        activity_sessions.device_id,
        activity_sessions.device_type,
        activity_sessions.title_id,
        activity_sessions.started_at,
        activity_sessions.ended_at,
        activity_sessions.start_position_seconds,
        activity_sessions.end_position_seconds,
        activity_sessions.max_position_seconds,
        activity_sessions.played_seconds,
        activity_sessions.event_count,
        activity_sessions.supplemental_type,
        activity_sessions.is_autoplay,
        activity_sessions.country_timezone_name,
        activity_sessions.source_line,
        'viewing_activity' as source

    from activity_sessions
    inner join changed_streams
        on
            activity_sessions.profile_id = changed_streams.profile_id
            and activity_sessions.device_id = changed_streams.device_id
            and activity_sessions.title_id = changed_streams.title_id
            and activity_sessions.started_at >= changed_streams.recompute_from

),

feed_sessions as (

    select * from sessions_aggregated
    union all
    select * from activity_sessions_changed

),

-- Local time in the household's zone; a viewing-activity row whose Country has a single zone
-- is placed in that zone instead (a household that travelled or moved).
sessions_zoned as (

    select
        feed_sessions.*,
        coalesce(feed_sessions.country_timezone_name, households.timezone_name) as timezone_name

    from feed_sessions

    left join households
        on feed_sessions.household_id = households.household_id

),

sessions_localized as (

    select
        sessions_zoned.*,
        {{ utc_to_local('sessions_zoned.started_at', 'sessions_zoned.timezone_name') }} as local_started_at

    from sessions_zoned

),

sessions_classified as (

    select
        sessions_localized.session_id,
        sessions_localized.household_id,
        sessions_localized.profile_id,
        sessions_localized.device_id,
        sessions_localized.device_type,
        sessions_localized.title_id,
        sessions_localized.started_at,
        sessions_localized.ended_at,
        sessions_localized.timezone_name,
        sessions_localized.local_started_at,
        cast(sessions_localized.local_started_at as date) as local_date,
        {{ daypart('sessions_localized.local_started_at') }} as daypart,
        sessions_localized.start_position_seconds,
        sessions_localized.end_position_seconds,
        sessions_localized.max_position_seconds,
        sessions_localized.played_seconds,
        -- A trailer, hook or recap is never a view of anything.
        sessions_localized.played_seconds >= {{ var('rewatch__view_min_played_seconds') }}
        and sessions_localized.supplemental_type is null as is_view,
        {{ is_kids('profiles.is_kids_profile') }} as is_kids_profile,
        sessions_localized.event_count,
        sessions_localized.supplemental_type,
        sessions_localized.is_autoplay,
        sessions_localized.source,
        sessions_localized.source_line

    from sessions_localized

    left join profiles
        on sessions_localized.profile_id = profiles.profile_id

)

select * from sessions_classified
