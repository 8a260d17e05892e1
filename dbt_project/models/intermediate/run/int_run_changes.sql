{#- What this run must recompute, captured before any incremental model changes: dbt runs
    this first because every incremental model depends on it, and it reads the warehouse's
    previous state by name (previous_relation), not by ref. The *_current dimension tables
    are rebuilt after it (from the *_latest models it compares them with). -#}
-- depends_on: {{ ref('int_titles_latest') }}
-- depends_on: {{ ref('int_households_latest') }}
-- depends_on: {{ ref('int_profiles_latest') }}
{% set previous_events = previous_relation('intermediate', 'int_playback_events') -%}
{%- set previous_sessions = previous_relation('main', 'fct_viewing_sessions') -%}
{%- set previous_titles = previous_relation('intermediate', 'int_titles_current') -%}
{%- set previous_households = previous_relation('intermediate', 'int_households_current') -%}
{%- set previous_profiles = previous_relation('intermediate', 'int_profiles_current') -%}

with

night_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at

    from {{ ref('stg_exports__playback_events') }}

),

activity_sessions as (

    select * from {{ ref('int_viewing_activity_sessions') }}

),

{% if previous_events and previous_sessions %}

titles as (

    select * from {{ ref('int_titles_latest') }}

),

households as (

    select * from {{ ref('int_households_latest') }}

),

profiles as (

    select * from {{ ref('int_profiles_latest') }}

),

-- A re-delivered night replaces what it delivered before: those streams change too.
replaced_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at

    from {{ previous_events }}
    where export_date in ({{ run_nights() }})

),

touched_deliveries as (

    select * from night_deliveries
    union all
    select * from replaced_deliveries

),

-- First delivery wins across nights: every delivery of a touched event_id may change winner.
same_event_deliveries as (

    select
        previous_events.household_id,
        previous_events.profile_id,
        previous_events.device_id,
        previous_events.title_id,
        previous_events.event_at

    from {{ previous_events }} as previous_events
    where previous_events.event_id in (select touched_deliveries.event_id from touched_deliveries)

),

changed_titles as (

    select coalesce(titles.title_id, previous_titles.title_id) as title_id
    from titles
    full outer join {{ previous_titles }} as previous_titles
        on titles.title_id = previous_titles.title_id
    where
        titles.title_id is null
        or previous_titles.title_id is null
        or titles.content_end_seconds is distinct from previous_titles.content_end_seconds
        or titles.runtime_seconds is distinct from previous_titles.runtime_seconds
        or titles.release_date is distinct from previous_titles.release_date

),

changed_households as (

    select households.household_id
    from households
    left join {{ previous_households }} as previous_households
        on households.household_id = previous_households.household_id
    where households.timezone_name is distinct from previous_households.timezone_name

),

changed_profiles as (

    select profiles.profile_id
    from profiles
    left join {{ previous_profiles }} as previous_profiles
        on profiles.profile_id = previous_profiles.profile_id
    where profiles.is_kids_profile is distinct from previous_profiles.is_kids_profile

),

-- A catalog, time-zone or kids-flag change re-derives every session it describes.
dimension_changes as (

    select
        previous_sessions.household_id,
        previous_sessions.profile_id,
        previous_sessions.device_id,
        previous_sessions.title_id,
        cast('-infinity' as timestamp) as event_at

    from {{ previous_sessions }} as previous_sessions
    where
        previous_sessions.title_id in (select changed_titles.title_id from changed_titles)
        or previous_sessions.household_id in (select changed_households.household_id from changed_households)
        or previous_sessions.profile_id in (select changed_profiles.profile_id from changed_profiles)

),

previous_activity_sessions as (

    select * from {{ previous_sessions }}
    where source = 'viewing_activity'

),

-- The viewing-activity feed is re-derived from its nights every run: a session added,
-- removed or changed (a re-delivered night, a title now matched to the catalog, a later
-- delivery that lost to an earlier one) changes the streams it was and is in.
changed_activity_sessions as (

    select coalesce(activity_sessions.session_id, previous_activity_sessions.session_id) as session_id
    from activity_sessions
    full outer join previous_activity_sessions
        on activity_sessions.session_id = previous_activity_sessions.session_id
    where
        activity_sessions.session_id is null
        or previous_activity_sessions.session_id is null
        or activity_sessions.household_id is distinct from previous_activity_sessions.household_id
        or activity_sessions.title_id is distinct from previous_activity_sessions.title_id
        or activity_sessions.device_type is distinct from previous_activity_sessions.device_type
        or activity_sessions.played_seconds is distinct from previous_activity_sessions.played_seconds
        or activity_sessions.start_position_seconds is distinct from previous_activity_sessions.start_position_seconds
        or activity_sessions.end_position_seconds is distinct from previous_activity_sessions.end_position_seconds
        or activity_sessions.supplemental_type is distinct from previous_activity_sessions.supplemental_type
        or activity_sessions.is_autoplay is distinct from previous_activity_sessions.is_autoplay

),

activity_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        started_at as event_at
    from activity_sessions
    where session_id in (select changed_activity_sessions.session_id from changed_activity_sessions)

    union all

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        started_at as event_at
    from previous_activity_sessions
    where session_id in (select changed_activity_sessions.session_id from changed_activity_sessions)

),

changed_events as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at
    from touched_deliveries

    union all

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at
    from same_event_deliveries

    union all

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at
    from dimension_changes

    union all

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at
    from activity_changes

),

stream_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(event_at) as changed_from

    from changed_events

    group by household_id, profile_id, device_id, title_id

),

-- A change can extend the session before it (a late event within 30 minutes of its end, a
-- removed stop): recompute each stream from the start of the last session starting at or
-- before its earliest change. Sessions starting earlier end before that and cannot change.
changed as (

    select
        stream_changes.household_id,
        stream_changes.profile_id,
        stream_changes.device_id,
        stream_changes.title_id,
        coalesce(max(previous_sessions.started_at), stream_changes.changed_from) as recompute_from

    from stream_changes
    left join {{ previous_sessions }} as previous_sessions
        on
            stream_changes.profile_id = previous_sessions.profile_id
            and stream_changes.device_id = previous_sessions.device_id
            and stream_changes.title_id = previous_sessions.title_id
            and previous_sessions.started_at <= stream_changes.changed_from

    group by
        stream_changes.household_id,
        stream_changes.profile_id,
        stream_changes.device_id,
        stream_changes.title_id,
        stream_changes.changed_from

),

{% else %}

-- First build (or full refresh): everything this run delivers is new.
changed as (

    select distinct
        household_id,
        profile_id,
        device_id,
        title_id,
        cast('-infinity' as timestamp) as recompute_from

    from night_deliveries

    union

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        cast('-infinity' as timestamp) as recompute_from

    from activity_sessions

),

{% endif %}

-- One recompute point per stream (a stream's events may name more than one household).
changed_streams as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(recompute_from) over (partition by profile_id, device_id, title_id) as recompute_from

    from changed

)

select distinct * from changed_streams
