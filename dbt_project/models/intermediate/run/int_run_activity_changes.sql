-- Streams whose viewing-activity sessions this run adds, removes or changes, from the earliest.
-- The feed is re-derived from its nights every run: a session added, removed or changed (a
-- re-delivered night, a title now matched to the catalog, a later delivery that lost to an
-- earlier one) changes the streams it was and is in.
with

activity_sessions as (

    select * from {{ ref('int_viewing_activity_sessions') }}

),

published_activity_sessions as (

    select * from {{ source('published', 'fct_viewing_sessions') }}
    where source = 'viewing_activity'

),

changed_sessions as (

    select coalesce(activity_sessions.session_id, published_activity_sessions.session_id) as session_id
    from activity_sessions
    full outer join published_activity_sessions
        on activity_sessions.session_id = published_activity_sessions.session_id
    where
        activity_sessions.session_id is null
        or published_activity_sessions.session_id is null
        or activity_sessions.household_id is distinct from published_activity_sessions.household_id
        or activity_sessions.title_id is distinct from published_activity_sessions.title_id
        or activity_sessions.device_type is distinct from published_activity_sessions.device_type
        or activity_sessions.played_seconds is distinct from published_activity_sessions.played_seconds
        or activity_sessions.start_position_seconds
        is distinct from published_activity_sessions.start_position_seconds
        or activity_sessions.end_position_seconds is distinct from published_activity_sessions.end_position_seconds
        or activity_sessions.supplemental_type is distinct from published_activity_sessions.supplemental_type
        or activity_sessions.is_autoplay is distinct from published_activity_sessions.is_autoplay

),

changed_session_starts as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        started_at
    from activity_sessions
    where session_id in (select changed_sessions.session_id from changed_sessions)

    union all

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        started_at
    from published_activity_sessions
    where session_id in (select changed_sessions.session_id from changed_sessions)

),

stream_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(started_at) as changed_from

    from changed_session_starts

    group by household_id, profile_id, device_id, title_id

)

select * from stream_changes
