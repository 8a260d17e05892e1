{#- What this run must recompute, captured before any incremental model changes: dbt runs
    this first because every incremental model depends on it, and it reads the warehouse's
    previous state by name (previous_relation), not by ref. -#}
-- depends_on: {{ ref('int_titles_current') }}
-- depends_on: {{ ref('int_households_current') }}
-- depends_on: {{ ref('int_profiles_current') }}
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
        title_id

    from {{ ref('stg_exports__playback_events') }}

),

{% if previous_events and previous_sessions %}

titles as (

    select * from {{ ref('int_titles_current') }}

),

households as (

    select * from {{ ref('int_households_current') }}

),

profiles as (

    select * from {{ ref('int_profiles_current') }}

),

-- A re-delivered night replaces what it delivered before: those streams change too.
replaced_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        title_id

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
        previous_events.title_id

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
        previous_sessions.title_id

    from {{ previous_sessions }} as previous_sessions
    where
        previous_sessions.title_id in (select changed_titles.title_id from changed_titles)
        or previous_sessions.household_id in (select changed_households.household_id from changed_households)
        or previous_sessions.profile_id in (select changed_profiles.profile_id from changed_profiles)

),

changed as (

    select
        household_id,
        profile_id,
        title_id
    from touched_deliveries

    union

    select
        household_id,
        profile_id,
        title_id
    from same_event_deliveries

    union

    select
        household_id,
        profile_id,
        title_id
    from dimension_changes

),

{% else %}

-- First build (or full refresh): everything this run delivers is new.
changed as (

    select distinct
        household_id,
        profile_id,
        title_id

    from night_deliveries

),

{% endif %}

-- The household of a (profile, title) comes from its events; keep every one seen.
changed_keys as (

    select distinct
        household_id,
        profile_id,
        title_id

    from changed

)

select * from changed_keys
