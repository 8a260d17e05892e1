-- Published streams whose title, household time zone or profile kids flag this run changes:
-- each is re-derived whole.
with

titles as (

    select * from {{ ref('int_titles_latest') }}

),

households as (

    select * from {{ ref('int_households_latest') }}

),

profiles as (

    select * from {{ ref('int_profiles_latest') }}

),

published_titles as (

    select * from {{ source('published_intermediate', 'int_titles_current') }}

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

changed_titles as (

    select coalesce(titles.title_id, published_titles.title_id) as title_id
    from titles
    full outer join published_titles
        on titles.title_id = published_titles.title_id
    where
        titles.title_id is null
        or published_titles.title_id is null
        or titles.content_end_seconds is distinct from published_titles.content_end_seconds
        or titles.runtime_seconds is distinct from published_titles.runtime_seconds
        or titles.release_date is distinct from published_titles.release_date

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
