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

published_sessions as (

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

stream_changes as (

    select distinct
        household_id,
        profile_id,
        device_id,
        title_id,
        cast('-infinity' as timestamp) as changed_from

    from published_sessions
    where
        title_id in (select changed_titles.title_id from changed_titles)
        or household_id in (select changed_households.household_id from changed_households)
        or profile_id in (select changed_profiles.profile_id from changed_profiles)

)

select * from stream_changes
