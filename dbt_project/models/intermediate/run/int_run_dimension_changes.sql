-- Published streams whose title, household time zone or profile kids flag this run changes:
-- each is re-derived whole.
with

changed_titles as (

    select * from {{ ref('int_run_changed_titles') }}

),

households as (

    select * from {{ ref('int_households_latest') }}

),

profiles as (

    select * from {{ ref('int_profiles_latest') }}

),

published_households as (

    select * from {{ source('published_intermediate', 'int_households_current') }}

),

published_profiles as (

    select * from {{ source('published_intermediate', 'int_profiles_current') }}

),

-- Not materialized: each read below is a semi join that DuckDB skips when its keys are empty
-- (most nights change no title, zone or kids flag), so a night reads no published session here.
published_sessions as not materialized (

    select * from {{ source('published', 'fct_viewing_sessions') }}

),

changed_households as (

    select households.household_id
    from households
    left join published_households
        on households.household_id = published_households.household_id
    where households.timezone_name is distinct from published_households.timezone_name

),

changed_profiles as (

    select profiles.profile_id
    from profiles
    left join published_profiles
        on profiles.profile_id = published_profiles.profile_id
    where profiles.is_kids_profile is distinct from published_profiles.is_kids_profile

),

changed_sessions as (

    select published_sessions.*
    from published_sessions
    semi join changed_titles
        on published_sessions.title_id = changed_titles.title_id

    union all

    select published_sessions.*
    from published_sessions
    semi join changed_households
        on published_sessions.household_id = changed_households.household_id

    union all

    select published_sessions.*
    from published_sessions
    semi join changed_profiles
        on published_sessions.profile_id = changed_profiles.profile_id

),

stream_changes as (

    select distinct
        household_id,
        profile_id,
        device_id,
        title_id,
        cast('-infinity' as timestamp) as changed_from

    from changed_sessions

)

select * from stream_changes
